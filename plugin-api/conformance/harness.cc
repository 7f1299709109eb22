#include "harness.h"

#include <dlfcn.h>
#include <elf.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <sstream>

#include "default_samples.inc"  // kBuiltInSamples, generated from samples/template.json

namespace fiscal::conformance {
namespace {

// ---------------------------------------------------------------------------------------------------
// Fake host API
// ---------------------------------------------------------------------------------------------------

// The fiscal_call handle the kit passes to the plugin.
struct FakeCall {
  Function function;
  CallRecord* record;
  uint8_t signature[64] = {};  // the last signature returned by sign, valid until the call returns
};

// Host API calls that passed a NULL fiscal_call, so that they cannot be tied to a call record.
std::atomic<int> null_call_count{0};

FakeCall* AsFake(fiscal_call* call) {
  if (call == nullptr) {
    null_call_count.fetch_add(1);
    return nullptr;
  }
  return reinterpret_cast<FakeCall*>(call);
}

fiscal_status FakeSetResult(fiscal_call* call, const char* data, size_t size) {
  FakeCall* fake = AsFake(call);
  if (fake == nullptr) return FISCAL_ERR_INVALID_INPUT;
  CallRecord& record = *fake->record;
  ++record.result_calls;
  if (data == nullptr && size != 0) {
    record.misuse.push_back("set_result got a NULL data pointer with size " + std::to_string(size));
    return FISCAL_ERR_INVALID_INPUT;
  }
  record.result.assign(data == nullptr ? "" : data, size);
  return FISCAL_OK;
}

void FakeSetError(fiscal_call* call, const char* field, size_t field_size, const char* message,
                  size_t message_size) {
  FakeCall* fake = AsFake(call);
  if (fake == nullptr) return;
  CallRecord& record = *fake->record;
  ++record.error_calls;
  record.field_null = field == nullptr;
  record.field = field == nullptr ? "" : std::string(field, field_size);
  if (message == nullptr && message_size != 0) {
    record.misuse.push_back("set_error got a NULL message pointer with size " + std::to_string(message_size));
    message_size = 0;
  }
  record.message_null = message == nullptr;
  record.message = message == nullptr ? "" : std::string(message, message_size);
}

void FakeLog(fiscal_call* call, int32_t level, const char* message, size_t message_size) {
  // `call` may be NULL outside a call, so a NULL handle is not misuse here.
  if (call == nullptr) return;
  CallRecord& record = *reinterpret_cast<FakeCall*>(call)->record;
  ++record.log_calls;
  if (level < FISCAL_LOG_DEBUG || level > FISCAL_LOG_ERROR) {
    record.misuse.push_back("log got level " + std::to_string(level) + ", outside FISCAL_LOG_DEBUG..FISCAL_LOG_ERROR");
  }
  if (message == nullptr && message_size != 0) {
    record.misuse.push_back("log got a NULL message pointer with size " + std::to_string(message_size));
  }
}

// The kit has no network: every request ends as a transport error, the way an unreachable
// authority does.
fiscal_status FakeHttpSend(fiscal_call* call, const fiscal_http_request* request, fiscal_http_response* response) {
  static const uint8_t kEmptyBody[1] = {0};
  FakeCall* fake = AsFake(call);
  if (fake == nullptr) return FISCAL_ERR_INVALID_INPUT;
  CallRecord& record = *fake->record;
  ++record.http_send_calls;

  if (fake->function != Function::kSubmitBatch) {
    record.misuse.push_back(std::string("http_send was called during ") + FunctionName(fake->function) +
                            "; plugin_abi.h allows it only during submit_batch");
    return FISCAL_ERR_UNSUPPORTED;
  }
  if (request == nullptr || response == nullptr) {
    record.misuse.push_back("http_send got a NULL request or response");
    return FISCAL_ERR_INVALID_INPUT;
  }
  if (request->struct_size < offsetof(fiscal_http_request, timeout_ms) + sizeof(uint32_t) ||
      request->endpoint == nullptr || request->method == nullptr || request->content_type == nullptr ||
      (request->body == nullptr && request->body_size != 0)) {
    record.misuse.push_back("http_send got a malformed request (struct_size, endpoint, method, content_type or body)");
    return FISCAL_ERR_INVALID_INPUT;
  }
  if (response->struct_size < offsetof(fiscal_http_response, timed_out) + sizeof(uint32_t)) {
    record.misuse.push_back("http_send got a response whose struct_size " + std::to_string(response->struct_size) +
                            " does not cover ABI 1.0");
    return FISCAL_ERR_INVALID_INPUT;
  }

  response->status_code = 0;
  response->body = kEmptyBody;
  response->body_size = 0;
  response->content_type = "";
  response->transport_error = "the conformance kit has no network";
  response->timed_out = 0;
  return FISCAL_ERR_TRANSPORT;
}

// The kit has no keys, so it returns a signature derived from the data by a fixed mix, so
// that a plugin's output stays deterministic under the kit. It proves nothing cryptographic; the
// host's real signatures are tested with the host.
fiscal_status FakeSign(fiscal_call* call, const fiscal_sign_request* request, fiscal_sign_result* result) {
  FakeCall* fake = AsFake(call);
  if (fake == nullptr) return FISCAL_ERR_INVALID_INPUT;
  CallRecord& record = *fake->record;
  if (fake->function != Function::kIssueRecord) {
    record.misuse.push_back(std::string("sign was called during ") + FunctionName(fake->function) +
                            "; plugin_abi.h allows it only during issue_record");
    return FISCAL_ERR_UNSUPPORTED;
  }
  if (request == nullptr || result == nullptr || request->key_ref == nullptr || request->algorithm == nullptr ||
      (request->data == nullptr && request->data_size != 0)) {
    record.misuse.push_back("sign got a NULL request, result, key_ref, algorithm or data");
    return FISCAL_ERR_INVALID_INPUT;
  }

  uint64_t state = 1469598103934665603ull;
  for (size_t i = 0; i < request->data_size; ++i) state = (state ^ request->data[i]) * 1099511628211ull;
  for (uint8_t& byte : fake->signature) {
    state = (state ^ (state >> 29)) * 0xbf58476d1ce4e5b9ull;
    byte = static_cast<uint8_t>(state >> 56);
  }
  result->signature = fake->signature;
  result->signature_size = sizeof(fake->signature);
  result->key_id = "conformance-kit";
  result->public_key_pem = "";
  result->certificate_chain_pem = "";
  return FISCAL_OK;
}

const fiscal_host_api kHostApi = {
    sizeof(fiscal_host_api), FISCAL_ABI_MINOR, &FakeSetResult, &FakeSetError, &FakeLog, &FakeHttpSend, &FakeSign,
};

struct AccessContext {
  bool offer_api;
  HandshakeRecord* record;
};

const fiscal_host_api* FakeGetHostApi(const fiscal_host_access* access, uint32_t major, uint32_t min_minor) {
  auto* context = static_cast<AccessContext*>(access->host_context);
  context->record->requests.emplace_back(major, min_minor);
  if (!context->offer_api || major != FISCAL_ABI_MAJOR || min_minor > FISCAL_ABI_MINOR) return nullptr;
  return &kHostApi;
}

void FakeAccessSetError(const fiscal_host_access* access, const char* message, size_t message_size) {
  auto* context = static_cast<AccessContext*>(access->host_context);
  ++context->record->error_calls;
  context->record->error_message = message == nullptr ? "" : std::string(message, message_size);
}

// ---------------------------------------------------------------------------------------------------
// Library
// ---------------------------------------------------------------------------------------------------

// The library stays loaded until the process exits: the host would dlclose it, but keeping it lets
// valgrind name the plugin's functions in leak reports.
void* library = nullptr;

constexpr size_t kPluginApiSize10 = offsetof(fiscal_plugin_api, render_receipt) + sizeof(void*);

// Returns the table slot of `function`, or nullptr when it is unset or outside struct_size.
const void* Slot(const fiscal_plugin_api* table, Function function) {
  auto covered = [table](size_t offset) { return table->struct_size >= offset + sizeof(void*); };
  switch (function) {
    case Function::kCreate:
      return covered(offsetof(fiscal_plugin_api, create)) ? reinterpret_cast<const void*>(table->create) : nullptr;
    case Function::kSelfTest:
      return covered(offsetof(fiscal_plugin_api, self_test)) ? reinterpret_cast<const void*>(table->self_test)
                                                             : nullptr;
    case Function::kValidateLocation:
      return covered(offsetof(fiscal_plugin_api, validate_location))
                 ? reinterpret_cast<const void*>(table->validate_location)
                 : nullptr;
    case Function::kIssueRecord:
      return covered(offsetof(fiscal_plugin_api, issue_record)) ? reinterpret_cast<const void*>(table->issue_record)
                                                                : nullptr;
    case Function::kSubmitBatch:
      return covered(offsetof(fiscal_plugin_api, submit_batch)) ? reinterpret_cast<const void*>(table->submit_batch)
                                                                : nullptr;
    case Function::kRenderReceipt:
      return covered(offsetof(fiscal_plugin_api, render_receipt))
                 ? reinterpret_cast<const void*>(table->render_receipt)
                 : nullptr;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------------
// Running a script in a child process
// ---------------------------------------------------------------------------------------------------

// Frames on the pipe from the child: one type byte, a 4-byte length, the payload.
constexpr char kFrameBegin = 'B';
constexpr char kFrameEnd = 'E';
constexpr char kFrameFailure = 'F';
constexpr char kFrameDone = 'D';

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) _exit(3);  // the parent is gone
    data += written;
    size -= static_cast<size_t>(written);
  }
}

class PipeSink : public Sink {
 public:
  explicit PipeSink(int fd) : fd_(fd) {}
  void BeginCall(const std::string& label) override { Write(kFrameBegin, label); }
  void EndCall() override { Write(kFrameEnd, ""); }
  void Failure(const std::string& message) override { Write(kFrameFailure, message); }
  void Done() { Write(kFrameDone, ""); }

 private:
  void Write(char type, const std::string& payload) {
    char header[5];
    header[0] = type;
    uint32_t size = static_cast<uint32_t>(payload.size());
    std::memcpy(header + 1, &size, sizeof(size));
    WriteAll(fd_, header, sizeof(header));
    WriteAll(fd_, payload.data(), payload.size());
  }

  int fd_;
};

class MemorySink : public Sink {
 public:
  explicit MemorySink(Outcome* outcome) : outcome_(outcome) {}
  void BeginCall(const std::string&) override {}
  void EndCall() override {}
  void Failure(const std::string& message) override { outcome_->failures.push_back(message); }

 private:
  Outcome* outcome_;
};

std::string SignalText(int signal_number) {
  const char* description = strsignal(signal_number);
  return "signal " + std::to_string(signal_number) + " (" + (description ? description : "unknown") + ")";
}

void RunBody(const std::function<void(Script&)>& body, Sink* sink) {
  try {
    Script script(sink);
    body(script);
  } catch (const std::exception& error) {
    sink->Failure(std::string("an exception reached the conformance kit: ") + error.what());
  } catch (...) {
    sink->Failure("an exception of unknown type reached the conformance kit");
  }
}

Outcome RunInChild(const std::function<void(Script&)>& body) {
  Outcome outcome;
  int fds[2];
  if (pipe(fds) != 0) {
    outcome.failures.push_back(std::string("pipe failed: ") + std::strerror(errno));
    return outcome;
  }
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0) {
    outcome.failures.push_back(std::string("fork failed: ") + std::strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return outcome;
  }
  if (child == 0) {
    close(fds[0]);
    PipeSink sink(fds[1]);
    RunBody(body, &sink);
    sink.Done();
    _exit(0);
  }
  close(fds[1]);

  const int timeout_ms = GlobalOptions().timeout_ms;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string stream;
  bool timed_out = false;
  char buffer[65536];
  for (;;) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd descriptor{fds[0], POLLIN, 0};
    int ready = poll(&descriptor, 1, static_cast<int>(remaining.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;  // the loop ends at the deadline
    ssize_t got = read(fds[0], buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // end of file: the child exited or closed the pipe
    stream.append(buffer, static_cast<size_t>(got));
  }
  close(fds[0]);
  if (timed_out) kill(child, SIGKILL);
  int wait_status = 0;
  while (waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }

  // Decode the frames; a frame cut short by the child's end is dropped.
  bool done = false;
  std::string running_call;
  size_t position = 0;
  while (position + 5 <= stream.size()) {
    char type = stream[position];
    uint32_t size = 0;
    std::memcpy(&size, stream.data() + position + 1, sizeof(size));
    if (position + 5 + size > stream.size()) break;
    std::string payload = stream.substr(position + 5, size);
    position += 5 + size;
    if (type == kFrameBegin) running_call = payload;
    if (type == kFrameEnd) running_call.clear();
    if (type == kFrameFailure) outcome.failures.push_back(payload);
    if (type == kFrameDone) done = true;
  }

  std::string during = running_call.empty() ? "" : " during " + running_call;
  if (timed_out) {
    outcome.abnormal_end = "the check did not finish within " + std::to_string(timeout_ms) + " ms" + during +
                           " (a blocking or very slow plugin call; see --timeout-ms)";
  } else if (WIFSIGNALED(wait_status)) {
    outcome.abnormal_end = "the plugin crashed" + during + ": the process was killed by " +
                           SignalText(WTERMSIG(wait_status));
  } else if (!done) {
    int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    outcome.abnormal_end = "the process ended" + during + " with exit status " + std::to_string(code) +
                           " before the check finished (the plugin called exit or abort?)";
  }
  return outcome;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Options and samples
// ---------------------------------------------------------------------------------------------------

Options& GlobalOptions() {
  static Options options;
  return options;
}

Samples& GlobalSamples() {
  static Samples samples;
  return samples;
}

std::string_view BuiltInSamplesText() { return kBuiltInSamples; }

namespace {

std::string ToJsonText(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Copies the object member `name` of `document` as JSON text into `out`. A missing member leaves
// `out` unchanged unless `required` is set.
bool ReadSampleMember(const rapidjson::Document& document, const char* name, bool required, bool allow_null,
                      std::string* out, std::string* error) {
  auto member = document.FindMember(name);
  if (member == document.MemberEnd()) {
    if (required) *error = std::string("\"") + name + "\" is missing";
    return !required;
  }
  if (allow_null && member->value.IsNull()) {
    out->clear();
    return true;
  }
  if (!member->value.IsObject()) {
    *error = std::string("\"") + name + "\" must be a JSON object" + (allow_null ? " or null" : "");
    return false;
  }
  *out = ToJsonText(member->value);
  return true;
}

}  // namespace

bool LoadSamples(const std::string& path, Samples* out, std::string* error) {
  std::string text;
  if (path.empty()) {
    text = std::string(kBuiltInSamples);
    out->source = "built-in samples (template plugin format)";
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      *error = "samples file " + path + " cannot be read";
      return false;
    }
    std::stringstream content;
    content << file.rdbuf();
    text = content.str();
    out->source = path;
  }

  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (document.HasParseError() || !document.IsObject()) {
    *error = out->source + ": not a JSON object" +
             (document.HasParseError() ? std::string(": ") + rapidjson::GetParseError_En(document.GetParseError()) +
                                             " at byte " + std::to_string(document.GetErrorOffset())
                                       : "");
    return false;
  }
  static const char* const kKnown[] = {"plugin_config",       "location_config", "invalid_location_config",
                                       "issue_record",        "invalid_issue_record", "render_receipt",
                                       "description"};
  for (auto it = document.MemberBegin(); it != document.MemberEnd(); ++it) {
    bool known = false;
    for (const char* name : kKnown) known = known || std::strcmp(name, it->name.GetString()) == 0;
    if (!known) {
      *error = out->source + ": unknown key \"" + it->name.GetString() + "\"";
      return false;
    }
  }

  out->plugin_config = "{}";
  out->invalid_location_config = "{}";
  out->invalid_issue_record = "{}";
  out->render_receipt.clear();
  std::string member_error;
  bool ok = ReadSampleMember(document, "plugin_config", false, false, &out->plugin_config, &member_error) &&
            ReadSampleMember(document, "location_config", true, false, &out->location_config, &member_error) &&
            ReadSampleMember(document, "invalid_location_config", false, false, &out->invalid_location_config,
                             &member_error) &&
            ReadSampleMember(document, "issue_record", true, false, &out->issue_record, &member_error) &&
            ReadSampleMember(document, "invalid_issue_record", false, false, &out->invalid_issue_record,
                             &member_error) &&
            ReadSampleMember(document, "render_receipt", false, true, &out->render_receipt, &member_error);
  if (!ok) {
    *error = out->source + ": " + member_error;
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// ELF
// ---------------------------------------------------------------------------------------------------

namespace {

template <typename Header, typename SectionHeader>
void FindSection(const std::string& file, InfoSection* section) {
  Header header;
  if (file.size() < sizeof(header)) {
    section->error = "the file is shorter than an ELF header";
    return;
  }
  std::memcpy(&header, file.data(), sizeof(header));
  if (header.e_shoff == 0 || header.e_shentsize != sizeof(SectionHeader) || header.e_shstrndx >= header.e_shnum ||
      header.e_shoff > file.size() || header.e_shnum > (file.size() - header.e_shoff) / sizeof(SectionHeader)) {
    section->error = "the ELF section header table is missing or out of bounds";
    return;
  }
  auto section_header = [&](size_t index) {
    SectionHeader entry;
    std::memcpy(&entry, file.data() + header.e_shoff + index * sizeof(SectionHeader), sizeof(entry));
    return entry;
  };
  SectionHeader names = section_header(header.e_shstrndx);
  if (names.sh_offset > file.size() || names.sh_size > file.size() - names.sh_offset) {
    section->error = "the ELF section name table is out of bounds";
    return;
  }
  std::string_view name_table(file.data() + names.sh_offset, names.sh_size);

  for (size_t i = 0; i < header.e_shnum; ++i) {
    SectionHeader entry = section_header(i);
    if (entry.sh_name >= name_table.size()) continue;
    std::string_view name = name_table.substr(entry.sh_name);
    name = name.substr(0, name.find('\0'));
    if (name != FISCAL_PLUGIN_INFO_SECTION) continue;
    ++section->count;
    if (entry.sh_type == SHT_NOBITS || entry.sh_offset > file.size() || entry.sh_size > file.size() - entry.sh_offset) {
      section->error = "section " FISCAL_PLUGIN_INFO_SECTION " has no contents in the file or is out of bounds";
      continue;
    }
    if (!section->found) {
      section->found = true;
      section->bytes = file.substr(entry.sh_offset, entry.sh_size);
    }
  }
  if (section->count == 0) {
    section->error = "the library has no section " FISCAL_PLUGIN_INFO_SECTION
                     " (declare the block with FISCAL_PLUGIN_DECLARE or FISCAL_SDK_DEFINE_PLUGIN)";
  }
}

}  // namespace

InfoSection ReadInfoSection(const std::string& path) {
  InfoSection section;
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    section.error = "cannot read " + path;
    return section;
  }
  std::stringstream content;
  content << stream.rdbuf();
  std::string file = content.str();

  if (file.size() < EI_NIDENT || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0) {
    section.error = path + " is not an ELF file";
    return section;
  }
  const uint32_t probe = 1;
  const bool little_endian_host = *reinterpret_cast<const uint8_t*>(&probe) == 1;
  const unsigned char data_encoding = static_cast<unsigned char>(file[EI_DATA]);
  if ((data_encoding == ELFDATA2LSB) != little_endian_host) {
    section.error = "the library's byte order (ELF data encoding " + std::to_string(data_encoding) +
                    ") differs from this host's";
    return section;
  }
  const unsigned char elf_class = static_cast<unsigned char>(file[EI_CLASS]);
  if (elf_class == ELFCLASS64) {
    FindSection<Elf64_Ehdr, Elf64_Shdr>(file, &section);
  } else if (elf_class == ELFCLASS32) {
    FindSection<Elf32_Ehdr, Elf32_Shdr>(file, &section);
  } else {
    section.error = "unknown ELF class " + std::to_string(elf_class);
  }
  return section;
}

// ---------------------------------------------------------------------------------------------------
// Script
// ---------------------------------------------------------------------------------------------------

const char* FunctionName(Function function) {
  switch (function) {
    case Function::kCreate:
      return "create";
    case Function::kSelfTest:
      return "self_test";
    case Function::kValidateLocation:
      return "validate_location";
    case Function::kIssueRecord:
      return "issue_record";
    case Function::kSubmitBatch:
      return "submit_batch";
    case Function::kRenderReceipt:
      return "render_receipt";
  }
  return "unknown";
}

Script::~Script() {
  if (instance_ != nullptr) Destroy(instance_);
}

bool Script::Expect(bool condition, const std::string& message) {
  if (!condition) sink_->Failure(message);
  return condition;
}

bool Script::Load() {
  if (library != nullptr) return true;
  sink_->BeginCall("dlopen (static constructors)");
  library = dlopen(GlobalOptions().plugin_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  sink_->EndCall();
  if (library == nullptr) {
    const char* error = dlerror();
    Fail(std::string("dlopen failed: ") + (error ? error : "unknown error"));
    return false;
  }
  return true;
}

void* Script::FindSymbol(const char* name) const {
  return library == nullptr ? nullptr : dlsym(library, name);
}

HandshakeRecord Script::Handshake(bool offer_api) {
  HandshakeRecord record;
  if (!Load()) return record;
  auto entry = reinterpret_cast<fiscal_plugin_entry_fn>(FindSymbol(FISCAL_PLUGIN_ENTRY_SYMBOL));
  record.entry_found = entry != nullptr;
  if (entry == nullptr) return record;

  AccessContext context{offer_api, &record};
  fiscal_host_access access{sizeof(fiscal_host_access), &FakeGetHostApi, &FakeAccessSetError, &context};
  const fiscal_plugin_api* table = nullptr;
  sink_->BeginCall(offer_api ? "fiscal_plugin_entry" : "fiscal_plugin_entry (host without API)");
  try {
    record.status = entry(&access, &table);
  } catch (const std::exception& error) {
    record.threw = true;
    record.exception = error.what();
  } catch (...) {
    record.threw = true;
    record.exception = "an exception of unknown type";
  }
  sink_->EndCall();
  record.table = table;
  return record;
}

bool Script::Open() {
  if (table_ != nullptr) return true;
  if (!Load()) return false;
  HandshakeRecord record = Handshake(true);
  if (!Expect(record.entry_found, "the library does not export " FISCAL_PLUGIN_ENTRY_SYMBOL)) return false;
  if (!Expect(!record.threw, "the entry point let an exception cross the ABI: " + record.exception)) return false;
  if (!Expect(record.status == FISCAL_OK, "the entry point returned status " + std::to_string(record.status) +
                                              " to a host offering ABI " + std::to_string(FISCAL_ABI_MAJOR) + "." +
                                              std::to_string(FISCAL_ABI_MINOR) + ": " + record.error_message)) {
    return false;
  }
  if (!Expect(record.table != nullptr, "the entry point returned FISCAL_OK but stored no function table")) return false;
  if (!Expect(record.table->struct_size >= kPluginApiSize10,
              "the function table's struct_size " + std::to_string(record.table->struct_size) +
                  " is smaller than the ABI 1.0 table (" + std::to_string(kPluginApiSize10) + " bytes)")) {
    return false;
  }
  table_ = record.table;
  return true;
}

bool Script::Start() {
  if (!Open()) return false;
  CallRecord record;
  instance_ = Create(GlobalSamples().plugin_config, "sample", &record);
  if (instance_ == nullptr) {
    ExpectContractKept(record);
    Fail("create failed on the sample configuration " + Excerpt(GlobalSamples().plugin_config) + ": status " +
         std::to_string(record.status) + ", " + Excerpt(record.message));
    return false;
  }
  return true;
}

fiscal_instance* Script::Create(std::string_view config, const std::string& input_name, CallRecord* record) {
  *record = Call(Function::kCreate, input_name, config);
  if (record->status == FISCAL_OK && !record->threw) return record->instance;
  return nullptr;
}

void Script::Destroy(fiscal_instance* instance) {
  if (instance == nullptr || table_ == nullptr) return;
  if (!Expect(table_->destroy != nullptr, "the destroy slot is NULL; the instance cannot be freed")) return;
  sink_->BeginCall("destroy");
  try {
    table_->destroy(instance);
  } catch (...) {
    Fail("destroy let an exception cross the ABI");
  }
  sink_->EndCall();
  if (instance == instance_) instance_ = nullptr;
}

CallRecord Script::Call(Function function, const std::string& input_name, std::string_view input,
                        fiscal_instance* instance) {
  std::string label = std::string(FunctionName(function)) + "(" + input_name + ")";
  sink_->BeginCall(label);
  CallRecord record = Invoke(function, input_name, input, instance);
  sink_->EndCall();
  return record;
}

CallRecord Script::Invoke(Function function, const std::string& input_name, std::string_view input,
                          fiscal_instance* instance) const {
  CallRecord record;
  record.function = function;
  record.label = std::string(FunctionName(function)) + "(" + input_name + ")";
  if (table_ == nullptr) {
    record.status = FISCAL_ERR_INTERNAL;
    record.misuse.push_back("the kit has no function table (the handshake failed)");
    return record;
  }
  const void* slot = Slot(table_, function);
  if (slot == nullptr) {
    record.status = FISCAL_ERR_INTERNAL;
    record.misuse.push_back(std::string("the ") + FunctionName(function) + " slot of the function table is NULL");
    return record;
  }
  if (instance == nullptr) instance = instance_;

  // The input sits in a buffer of exactly its size, so that a plugin reading past the given length
  // reads memory that valgrind reports.
  std::unique_ptr<char[]> buffer(new char[input.size() + (input.empty() ? 1 : 0)]);
  if (!input.empty()) std::memcpy(buffer.get(), input.data(), input.size());
  const char* data = buffer.get();
  const size_t size = input.size();

  FakeCall call{function, &record};
  auto* raw_call = reinterpret_cast<fiscal_call*>(&call);
  const int null_calls_before = null_call_count.load();
  const auto start = std::chrono::steady_clock::now();
  try {
    switch (function) {
      case Function::kCreate: {
        fiscal_instance* created = nullptr;
        record.status = table_->create(data, size, raw_call, &created);
        record.instance = created;
        break;
      }
      case Function::kSelfTest:
        record.status = table_->self_test(instance, raw_call);
        break;
      case Function::kValidateLocation:
        record.status = table_->validate_location(instance, data, size, raw_call);
        break;
      case Function::kIssueRecord:
        record.status = table_->issue_record(instance, data, size, raw_call);
        break;
      case Function::kSubmitBatch:
        record.status = table_->submit_batch(instance, data, size, raw_call);
        break;
      case Function::kRenderReceipt:
        record.status = table_->render_receipt(instance, data, size, raw_call);
        break;
    }
  } catch (const std::exception& error) {
    record.threw = true;
    record.exception = error.what();
  } catch (...) {
    record.threw = true;
    record.exception = "an exception of unknown type";
  }
  record.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (null_call_count.load() != null_calls_before) {
    record.misuse.push_back("a host API function was called with a NULL fiscal_call");
  }
  return record;
}

bool Script::ExpectContractKept(const CallRecord& record) {
  const std::string& label = record.label;
  bool contract_kept = true;
  if (record.threw) {
    Fail(label + " let an exception cross the ABI: " + record.exception +
         " (catch every exception inside the plugin; the C++ SDK does)");
    return false;
  }
  for (const std::string& misuse : record.misuse) contract_kept = Expect(false, label + ": " + misuse) && contract_kept;
  if (record.status < FISCAL_OK || record.status > FISCAL_ERR_NO_MEMORY) {
    contract_kept = Expect(false, label + " returned status " + std::to_string(record.status) +
                             ", which plugin_abi.h does not define") &&
           contract_kept;
  }

  if (record.status == FISCAL_OK) {
    if (record.function == Function::kCreate) {
      return Expect(record.instance != nullptr, label + " returned FISCAL_OK without storing an instance") && contract_kept;
    }
    if (!Expect(record.result_calls > 0, label + " returned FISCAL_OK without calling set_result")) return false;
    std::string json_error = JsonObjectError(record.result);
    return Expect(json_error.empty(), label + " returned a result that is not a JSON object in UTF-8 (" + json_error +
                                          "): " + Excerpt(record.result)) &&
           contract_kept;
  }

  if (record.function == Function::kCreate && record.instance != nullptr) {
    contract_kept = Expect(false, label + " failed but stored an instance in *out_instance") && contract_kept;
  }
  if (!Expect(record.error_calls > 0, label + " returned status " + std::to_string(record.status) +
                                          " without calling set_error")) {
    return false;
  }
  contract_kept = Expect(!record.message.empty(), label + " called set_error with an empty message") && contract_kept;
  contract_kept = Expect(IsValidUtf8(record.message) && record.message.find('\0') == std::string::npos,
                label + " reported an error message that is not UTF-8 text without NUL bytes: " +
                    Excerpt(record.message)) &&
         contract_kept;
  if (!record.field_null) {
    contract_kept = Expect(!record.field.empty(), label + " named an empty field in set_error (pass NULL when no field applies)") &&
           contract_kept;
    contract_kept = Expect(IsValidUtf8(record.field), label + " named a field that is not UTF-8: " + Excerpt(record.field)) && contract_kept;
  }
  return contract_kept;
}

bool Script::ExpectAccepted(const CallRecord& record) {
  if (!Expect(record.status == FISCAL_OK || record.threw,
              record.label + " failed with status " + std::to_string(record.status) + ", field \"" +
                  Excerpt(record.field) + "\": " + Excerpt(record.message, 400))) {
    ExpectContractKept(record);
    return false;
  }
  return ExpectContractKept(record);
}

bool Script::ExpectRejected(const CallRecord& record) {
  if (!Expect(record.status != FISCAL_OK || record.threw,
              record.label + " returned FISCAL_OK for input it must reject; result: " + Excerpt(record.result))) {
    if (record.function == Function::kCreate && record.instance != nullptr) Destroy(record.instance);
    return false;
  }
  return ExpectContractKept(record);
}

Outcome RunScript(const std::function<void(Script&)>& body) {
  if (GlobalOptions().isolate) return RunInChild(body);
  Outcome outcome;
  MemorySink sink(&outcome);
  RunBody(body, &sink);
  return outcome;
}

// ---------------------------------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------------------------------

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code_point = 0;
    if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code_point = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code_point = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code_point = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto continuation = static_cast<unsigned char>(text[i + k]);
      if ((continuation & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (continuation & 0x3F);
    }
    static const uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length] || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

std::string JsonObjectError(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return "contains a NUL byte";
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (document.HasParseError()) {
    return std::string(rapidjson::GetParseError_En(document.GetParseError())) + " at byte " +
           std::to_string(document.GetErrorOffset());
  }
  if (!document.IsObject()) return "not an object";
  return "";
}

std::string Excerpt(std::string_view text, size_t max_size) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < max_size; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7F) {
      out.push_back(static_cast<char>(byte));
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
      out += escaped;
    }
  }
  if (text.size() > max_size) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace fiscal::conformance
