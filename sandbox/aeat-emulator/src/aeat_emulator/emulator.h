// The emulated AEAT VERI*FACTU service: evaluates RegFactuSistemaFacturacion submissions against
// the stored state, builds AEAT-format responses and serves the control API. It opens no sockets,
// so tests call it directly.

#ifndef AEAT_EMULATOR_EMULATOR_H_
#define AEAT_EMULATOR_EMULATOR_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aeat_emulator/http.h"
#include "aeat_emulator/registry.h"
#include "aeat_emulator/response_xml.h"
#include "aeat_emulator/submission.h"
#include "aeat_emulator/xml_support.h"

namespace aeat_emulator {

inline constexpr char kVerifactuPath[] = "/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP";

struct EmulatorConfig {
  // TiempoEsperaEnvio returned in every response, in seconds, until POST /control/fault sets
  // another value.
  int wait_seconds = 60;
  // Allowed distance between FechaHoraHusoGenRegistro and the emulator clock before 2004.
  // NOTE: AEAT does not publish its margin; 240 s is what third parties report.
  int clock_margin_seconds = 240;
  // Clock used for 2004 checks and DatosPresentacion; tests inject a fixed one.
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
  // JSON-lines file that keeps the state across restarts; empty keeps it in memory only.
  std::string state_file;
};

// Identity of the client that sent a request, taken from the TLS connection.
struct ClientInfo {
  std::string peer_address;
  std::string subject_common_name;
  std::string subject_serial_number;
};

enum class FaultMode { kNone, kTimeout, kHttp500, kSoapServerFault, kRejectAll, kLoseResponse };

struct FaultSettings {
  FaultMode mode = FaultMode::kNone;
  int remaining = 0;  // Requests still affected; 0 means until changed.
  int delay_ms = 0;
};

class Emulator {
 public:
  Emulator(EmulatorConfig config, std::shared_ptr<const SchemaSet> schemas);

  // Loads the state file, if configured. Call once before serving.
  bool Open(std::string* error);

  // Routes a request that arrived on the TLS port.
  HttpReply HandleServiceRequest(const HttpRequest& request, const ClientInfo& client);

  // Processes one SOAP body sent to the VERI*FACTU endpoint, applying the active fault mode.
  HttpReply HandleSoap(std::string_view body, const ClientInfo& client);

  // Routes a request that arrived on the control port.
  HttpReply HandleControl(const HttpRequest& request);

  FaultSettings fault_settings() const;
  // Returns the TiempoEsperaEnvio currently sent, in seconds.
  int wait_seconds() const;
  std::string RecordsJson() const;

 private:
  struct RegistryWrite {
    StoredRecord record;
    bool advance_chain = false;
  };

  // Outcome of one record: its RespuestaLinea and the registry writes it causes, applied in order
  // before the next record of the submission is evaluated.
  struct Evaluation {
    ResponseLine line;
    std::vector<RegistryWrite> writes;
  };

  // Takes one request's share of the active fault mode.
  FaultSettings ConsumeFault();

  HttpReply ProcessSubmission(const Submission& submission, const ClientInfo& client,
                              bool reject_all, uint64_t request_number);
  Evaluation EvaluateRecord(const Submission& submission, const SubmittedRecord& record,
                            const std::string& id_peticion, const std::string& csv);
  // `incidencia` is the submission's Incidencia flag, recorded on a stored record that is re-sent.
  bool CheckExistence(const SubmittedRecord& record, bool incidencia, Evaluation& evaluation);
  int CheckAcceptedRecord(const Submission& submission, const SubmittedRecord& record);
  // Remembers a rejected record's huella for the chain check of the next record, unless the
  // record is from another issuer than the submitter, wrongly hashed, or a re-send of a stored one.
  void NoteRejectedRecord(const Submission& submission, const SubmittedRecord& record);

  HttpReply RouteControl(const HttpRequest& request);
  HttpReply HandleFaultCommand(std::string_view body);
  HttpReply Reset();

  EmulatorConfig config_;
  std::shared_ptr<const SchemaSet> schemas_;

  mutable std::mutex mutex_;  // Guards registry_, fault_ and wait_seconds_.
  Registry registry_;
  FaultSettings fault_;
  int wait_seconds_;  // TiempoEsperaEnvio sent now, config_.wait_seconds after a reset.
};

const char* FaultModeName(FaultMode mode);
std::optional<FaultMode> ParseFaultMode(std::string_view name);

// Parses an xs:dateTime with an explicit offset or Z into seconds since the Unix epoch.
std::optional<int64_t> ParseDateTimeWithOffset(std::string_view text);

// Formats `time` as local time with its UTC offset, for example 2025-06-02T10:00:00+02:00.
std::string FormatLocalDateTime(std::chrono::system_clock::time_point time);

}  // namespace aeat_emulator

#endif  // AEAT_EMULATOR_EMULATOR_H_
