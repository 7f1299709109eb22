// State of the emulated AEAT: billing records, one chain per (issuer NIF, installation) and the
// request counter, optionally persisted to an append-only JSON-lines file.

#ifndef AEAT_EMULATOR_REGISTRY_H_
#define AEAT_EMULATOR_REGISTRY_H_

#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "aeat_emulator/submission.h"

namespace aeat_emulator {

struct StoredRecord {
  RecordType type = RecordType::kAlta;
  std::string nif;
  std::string installation;
  std::string num_serie;
  std::string fecha;
  std::string huella;
  std::string estado;  // EstadoRegistro: "Correcto" or "AceptadoConErrores".
  int error_code = 0;  // CodigoErrorRegistro of an AceptadoConErrores record, else 0.
  std::string id_peticion;
  std::string csv;
  int times_received = 1;  // Submissions of this record, counting rejected re-sends.
  bool anulada = false;    // Alta records only: a later RegistroAnulacion cancelled the invoice.
  // Cabecera/RemisionVoluntaria/Incidencia=S in the submission that stored the record.
  bool incidencia = false;
  // The same flag in the latest submission of this record, including rejected re-sends.
  bool last_incidencia = false;
};

struct ChainState {
  std::string last_huella;  // Huella of the last stored record.
  int64_t count = 0;        // Stored records.
  // Huella of a correctly hashed record that was rejected after the last stored record, empty when
  // none was. The issuer's system keeps such a record, so the next record may chain to it.
  std::string last_rejected_huella;
};

// One SOAP request in the request log of GET /control/records.
struct RequestLogEntry {
  uint64_t request = 0;        // Request number, as counted by CountRequest.
  int64_t received_at_ms = 0;  // Arrival time, in milliseconds since the Unix epoch.
  // RegistroFactura elements, or 0 when the request failed before or during the schema check.
  size_t records = 0;
};

// Number of latest SOAP requests kept in the request log.
inline constexpr size_t kRequestLogSize = 100;

// Not thread-safe: the caller serializes all access.
class Registry {
 public:
  // `state_file` empty keeps the state in memory only.
  explicit Registry(std::string state_file);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Replays the state file, if one is configured and exists, and opens it for appending.
  bool Open(std::string* error);

  StoredRecord* Find(RecordType type, const std::string& nif, const std::string& num_serie,
                     const std::string& fecha);
  const ChainState* FindChain(const std::string& nif, const std::string& installation) const;

  // Inserts or replaces the record with the same type and invoice identity. With
  // `advance_chain`, the record also becomes the last record of its chain.
  void Store(const StoredRecord& record, bool advance_chain);

  // Remembers the huella of a rejected record as an accepted previous huella of its chain, until
  // another record of the chain is rejected or stored.
  void NoteRejected(const std::string& nif, const std::string& installation, const std::string& huella);

  // Counts one more SOAP request, adds it to the request log and returns the new total. The
  // request log is kept in memory only, so it starts empty after a restart.
  uint64_t CountRequest(int64_t received_at_ms, size_t record_count);
  uint64_t request_count() const { return request_count_; }

  // Forgets every record, chain, the request counter and the request log, and truncates the state
  // file.
  void Reset();

  // Serializes the state as returned by GET /control/records.
  std::string ToJson() const;

  static std::string ChainKey(const std::string& nif, const std::string& installation);

 private:
  void Apply(const StoredRecord& record, bool advance_chain);
  void ApplyRejected(const std::string& nif, const std::string& installation, const std::string& huella);
  void AppendLine(const std::string& line);

  std::string state_file_;
  FILE* state_stream_ = nullptr;
  std::vector<StoredRecord> records_;
  std::map<std::string, size_t> index_;
  std::map<std::string, ChainState> chains_;
  uint64_t request_count_ = 0;
  std::deque<RequestLogEntry> request_log_;  // Oldest first, at most kRequestLogSize entries.
};

const char* RecordTypeName(RecordType type);

}  // namespace aeat_emulator

#endif  // AEAT_EMULATOR_REGISTRY_H_
