// The conformance kit's own minimal host. It reads the compatibility block from the library file,
// loads the plugin with dlopen, performs the handshake with a fake host API, and records what the
// plugin reports through that API. It uses nothing of the fiscal server but fiscal/plugin_abi.h.
//
// Each check runs its plugin calls through a Script. By default the Script runs in a forked child
// process, so that a plugin that crashes, throws across the ABI or blocks fails that one check (with
// the call that was running) instead of ending the whole run.
#ifndef FISCAL_CONFORMANCE_HARNESS_H_
#define FISCAL_CONFORMANCE_HARNESS_H_

#include <fiscal/plugin_abi.h>

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace fiscal::conformance {

struct Options {
  std::string plugin_path;
  std::string samples_path;  // empty: the built-in samples, in the template plugin's format
  bool isolate = true;       // run each check in a forked child process
  int timeout_ms = 10000;    // limit for one check's child process
  // Limit for the median of five issue_record calls on the sample; 0 turns the check off.
  int issue_record_budget_ms = 250;
  int threads = 8;
  int calls_per_thread = 25;
};

Options& GlobalOptions();

// Valid inputs in the plugin's own format, each one compact JSON text.
struct Samples {
  std::string source;  // file name, or a note that the built-in samples are used
  std::string plugin_config;
  std::string location_config;
  std::string invalid_location_config;
  std::string issue_record;
  std::string invalid_issue_record;
  std::string render_receipt;  // empty when the samples have none
};

Samples& GlobalSamples();

// Reads samples from the JSON file `path`, or the built-in ones when `path` is empty. Returns false
// with `error` set when the file is missing or malformed.
bool LoadSamples(const std::string& path, Samples* out, std::string* error);

// The built-in samples, as the JSON file text.
std::string_view BuiltInSamplesText();

// The compatibility block as stored in the library file.
struct InfoSection {
  bool found = false;
  std::string error;  // why the section could not be read, when `found` is false
  std::string bytes;  // the section's contents
  int count = 0;      // number of sections with the block's name
};

// Reads section FISCAL_PLUGIN_INFO_SECTION from the ELF file at `path` without loading it.
InfoSection ReadInfoSection(const std::string& path);

enum class Function { kCreate, kSelfTest, kValidateLocation, kIssueRecord, kSubmitBatch, kRenderReceipt };

const char* FunctionName(Function function);

// Names a Function in GoogleTest's output.
inline void PrintTo(Function function, std::ostream* out) { *out << FunctionName(function); }

// Record of the fake host API calls made during one plugin call.
struct CallRecord {
  Function function = Function::kSelfTest;
  std::string label;  // e.g. "issue_record(sample)"
  fiscal_status status = FISCAL_OK;
  bool threw = false;  // an exception crossed the ABI
  std::string exception;
  int result_calls = 0;
  std::string result;
  int error_calls = 0;
  bool field_null = true;
  std::string field;
  bool message_null = true;
  std::string message;
  int http_send_calls = 0;
  int log_calls = 0;
  // Host API misuse seen during the call, one sentence each (e.g. set_result with a NULL pointer).
  std::vector<std::string> misuse;
  double elapsed_ms = 0;
  fiscal_instance* instance = nullptr;  // what create stored in *out_instance
};

// Record of one call of the entry point, as the fake host saw it.
struct HandshakeRecord {
  bool entry_found = false;
  fiscal_status status = FISCAL_OK;
  const fiscal_plugin_api* table = nullptr;
  bool threw = false;
  std::string exception;
  std::vector<std::pair<uint32_t, uint32_t>> requests;  // (major, min_minor) per get_host_api call
  int error_calls = 0;
  std::string error_message;
};

// Receives what a Script reports: the start of each plugin call (so that a crash can be blamed on
// it) and each failed expectation.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void BeginCall(const std::string& label) = 0;
  virtual void EndCall() = 0;
  virtual void Failure(const std::string& message) = 0;
};

// Plugin calls and expectations of one check.
class Script {
 public:
  explicit Script(Sink* sink) : sink_(sink) {}
  ~Script();

  Script(const Script&) = delete;
  Script& operator=(const Script&) = delete;

  // Reports `message` as a failure when `condition` is false. Returns `condition`.
  bool Expect(bool condition, const std::string& message);
  void Fail(const std::string& message) { Expect(false, message); }

  // Loads the library (once per process). Returns false after reporting why it failed.
  bool Load();
  // Calls the entry point. With `offer_api` false, get_host_api returns NULL for every request.
  HandshakeRecord Handshake(bool offer_api);
  // Loads the library and performs the handshake, keeping the returned table. Returns false after
  // reporting why it failed.
  bool Open();
  // Opens the plugin and creates the instance of this script with the sample configuration.
  bool Start();

  // Creates another instance from `config`. On failure returns nullptr, and `record` contains the error.
  fiscal_instance* Create(std::string_view config, const std::string& input_name, CallRecord* record);
  void Destroy(fiscal_instance* instance);

  // Calls `function` on `instance` (the script's own one when null). Reports the call's start to the
  // sink, so a crash during the call names it. An unset table slot is reported, not called.
  CallRecord Call(Function function, const std::string& input_name, std::string_view input,
                  fiscal_instance* instance = nullptr);
  // Same as Call without reporting to the sink, for use from several threads at once.
  CallRecord Invoke(Function function, const std::string& input_name, std::string_view input,
                    fiscal_instance* instance) const;

  // Reports every breach of the call contract in `record`: an exception, host API misuse, a status
  // code outside the defined range, FISCAL_OK without a JSON object result, or a failure without an
  // error message. Returns true when there was none.
  bool ExpectContractKept(const CallRecord& record);
  // ExpectContractKept plus status FISCAL_OK.
  bool ExpectAccepted(const CallRecord& record);
  // ExpectContractKept plus a non-zero status.
  bool ExpectRejected(const CallRecord& record);

  // Looks up `name` in the loaded library; nullptr when absent or not loaded.
  void* FindSymbol(const char* name) const;

  const fiscal_plugin_api* table() const { return table_; }
  fiscal_instance* instance() const { return instance_; }
  Sink* sink() const { return sink_; }

 private:
  Sink* sink_;
  const fiscal_plugin_api* table_ = nullptr;
  fiscal_instance* instance_ = nullptr;
};

// The result of running one check's Script.
struct Outcome {
  std::vector<std::string> failures;
  // Set when the plugin ended the child process (crash, exit) or ran out of time; names the call.
  std::string abnormal_end;
};

// Runs `body` in a forked child process (or in this process with Options::isolate false) and
// collects what it reported.
Outcome RunScript(const std::function<void(Script&)>& body);

// Returns true when `text` is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Returns an empty string when `text` is one JSON object in valid UTF-8, else the parse error.
std::string JsonObjectError(std::string_view text);

// Shortens `text` for failure messages and escapes bytes that are not printable ASCII.
std::string Excerpt(std::string_view text, size_t max_size = 160);

}  // namespace fiscal::conformance

#endif  // FISCAL_CONFORMANCE_HARNESS_H_
