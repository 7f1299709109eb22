// Cost of one plugin call through the C ABI compared with a direct C++ call of the same code.
//
// Two plugins, each called three ways:
//   Direct        the plugin's C++ function, linked into this program (no ABI at all);
//   MinimalHost   the plugin's fiscal_plugin_api.issue_record through function pointers, with a
//                 host API of this file whose set_result only copies the result into a string;
//   LoadedPlugin  the host's real wrapper: plugins::LoadPlugin and LoadedPlugin::IssueRecord, as
//                 the transactions store calls it.
// The bench-echo plugin (bench/echo_plugin.cc) does almost no work, so its numbers are the call
// overhead itself. The Spain plugin gets a realistic sale and shows the overhead next to real work.
//
// Each way loads its own copy of the library file: glibc maps one file only once, and the
// plugin's stored host API pointer must not be shared between the minimal host and the real one.
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <fiscal/plugin_abi.h>

#include "echo_record.h"
#include "location_config.h"
#include "plugins/plugin_registry.h"
#include "record_issuer.h"
#include "system_info.h"

namespace fiscal::bench {
namespace {

namespace fs = std::filesystem;

// A folder under the temporary directory for private copies of the plugin files, removed at exit.
class ScratchFolder {
 public:
  static ScratchFolder& Instance() {
    static ScratchFolder folder;
    return folder;
  }

  ~ScratchFolder() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }

  // Copies `source` into the folder as `name` and returns the copy's path, or "" on failure.
  std::string Copy(const std::string& source, const std::string& name) {
    if (path_.empty()) return "";
    std::error_code error;
    fs::path target = fs::path(path_) / name;
    fs::copy_file(source, target, fs::copy_options::overwrite_existing, error);
    return error ? "" : target.string();
  }

 private:
  ScratchFolder() {
    std::string pattern = (fs::temp_directory_path() / "plugin-abi-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }

  std::string path_;
};

// ---- Minimal host: the smallest host API a plugin accepts ----------------------------------------

// The state behind the fiscal_call handles of the minimal host. The handle is opaque to plugins,
// so the host may pass any pointer; the real host's struct fiscal_call is not reused here.
struct MinimalCall {
  std::string result;
  std::string error;
};

MinimalCall* AsMinimalCall(fiscal_call* call) { return reinterpret_cast<MinimalCall*>(call); }

fiscal_status MinimalSetResult(fiscal_call* call, const char* data, size_t size) {
  AsMinimalCall(call)->result.assign(data, size);
  return FISCAL_OK;
}

void MinimalSetError(fiscal_call* call, const char*, size_t, const char* message, size_t message_size) {
  AsMinimalCall(call)->error.assign(message, message_size);
}

void MinimalLog(fiscal_call*, int32_t, const char*, size_t) {}

fiscal_status MinimalHttpSend(fiscal_call*, const fiscal_http_request*, fiscal_http_response*) {
  return FISCAL_ERR_UNSUPPORTED;
}

const fiscal_host_api kMinimalHostApi = {
    sizeof(fiscal_host_api), FISCAL_ABI_MINOR, &MinimalSetResult, &MinimalSetError, &MinimalLog, &MinimalHttpSend, nullptr,
};

const fiscal_host_api* MinimalGetHostApi(const fiscal_host_access*, uint32_t major, uint32_t min_minor) {
  return major == FISCAL_ABI_MAJOR && min_minor <= FISCAL_ABI_MINOR ? &kMinimalHostApi : nullptr;
}

void MinimalHandshakeError(const fiscal_host_access* access, const char* message, size_t size) {
  static_cast<std::string*>(access->host_context)->assign(message, size);
}

// One plugin library loaded with dlopen and one instance created, without the host's checks.
class MinimalHostPlugin {
 public:
  // Loads the plugin file at `path`; check error() afterwards.
  explicit MinimalHostPlugin(const std::string& path) {
    library_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library_ == nullptr) {
      error_ = std::string("dlopen failed: ") + dlerror();
      return;
    }
    auto entry = reinterpret_cast<fiscal_plugin_entry_fn>(dlsym(library_, FISCAL_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) {
      error_ = path + " does not export " FISCAL_PLUGIN_ENTRY_SYMBOL;
      return;
    }

    std::string handshake_error;
    fiscal_host_access access{sizeof(fiscal_host_access), &MinimalGetHostApi, &MinimalHandshakeError,
                              &handshake_error};
    if (entry(&access, &api_) != FISCAL_OK || api_ == nullptr) {
      error_ = "handshake failed: " + handshake_error;
      return;
    }

    MinimalCall call;
    if (api_->create("{}", 2, reinterpret_cast<fiscal_call*>(&call), &instance_) != FISCAL_OK) {
      error_ = "create failed: " + call.error;
      instance_ = nullptr;
    }
  }

  ~MinimalHostPlugin() {
    if (instance_ != nullptr) api_->destroy(instance_);
    if (library_ != nullptr) dlclose(library_);
  }

  MinimalHostPlugin(const MinimalHostPlugin&) = delete;
  MinimalHostPlugin& operator=(const MinimalHostPlugin&) = delete;

  const std::string& error() const { return error_; }

  fiscal_status IssueRecord(std::string_view input, MinimalCall& call) const {
    return api_->issue_record(instance_, input.data(), input.size(), reinterpret_cast<fiscal_call*>(&call));
  }

 private:
  void* library_ = nullptr;
  const fiscal_plugin_api* api_ = nullptr;
  fiscal_instance* instance_ = nullptr;
  std::string error_;
};

// ---- Inputs ------------------------------------------------------------------------------------

// The input of bench-echo: a sale body of the same size class as the Spain input.
const std::string& EchoInput() {
  static const std::string input =
      R"({"operation":"sale","environment":"test","now":"2026-12-04T09:15:00Z","transaction":{"id":"t-1",)"
      R"("items":[{"description":"Cafe","quantity":"2","unit_price":"2.50","tax_rate":"10.00","amount":"5.00"}],)"
      R"("total_amount":"8.00"}})";
  return input;
}

std::string MemberAsJson(const rapidjson::Value& object, const char* name) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  object[name].Accept(writer);
  return buffer.GetString();
}

// issue_record input for a Spanish sale in the shape the host builds it
// (api::TransactionToPluginJson and TransactionsStore::Issue): two items at 10 % VAT, the
// location's normalised config, and the chain state of a previous record, so the record is chained.
std::string BuildSpainInput(std::string& error) {
  std::string validated;
  spain::Status status = spain::ValidateLocation(
      R"({"system":"verifactu","nif":"89890001K","legal_name":"Empresa Ficticia SL","invoice_series":"A",)"
      R"("installation_number":"1"})",
      &validated);
  if (!status.ok()) {
    error = "validate_location failed: " + status.message();
    return "";
  }
  rapidjson::Document location;
  location.Parse(validated.c_str());
  std::string config = MemberAsJson(location, "config");

  auto input = [&](int sequence, const std::string& previous) {
    std::string number = "A-" + std::to_string(sequence);
    return R"({"operation":"sale","environment":"test","now":"2026-12-04T09:15:00Z","location":)" + config +
           R"(,"transaction":{"id":"5f0c4c1e-8d5b-4c53-9a55-0000000000)" + std::to_string(10 + sequence) +
           R"(","type":"sale","invoice_number":")" + number +
           R"(","timestamp":"2026-12-04T10:15:00+01:00","currency":"EUR","payment_method":"card","description":"",)"
           R"("items":[{"description":"Café","quantity":"2","unit_price":"2.50","tax_rate":"10.00","amount":"5.00"},)"
           R"({"description":"Bocadillo","quantity":"1","unit_price":"3.00","tax_rate":"10.00","amount":"3.00"}],)"
           R"("breakdown":[{"tax_rate":"10.00","base":"7.27","tax":"0.73"}],)"
           R"("pretax_amount":"7.27","tax_amount":"0.73","total_amount":"8.00","customer":null},"original":null,)"
           R"("chain":{"key":"89890001K:1","sequence":)" + std::to_string(sequence) + R"(,"previous":)" + previous + "}}";
  };

  // The first record of the chain supplies the chain state that the benchmarked second record uses.
  std::string first;
  status = spain::IssueRecord(spain::SystemInfo(), input(1, "null"), &first);
  if (!status.ok()) {
    error = "issue_record of the first record failed: " + status.message();
    return "";
  }
  rapidjson::Document issued;
  issued.Parse(first.c_str());
  if (!issued.IsObject() || !issued.HasMember("chain_state")) {
    error = "issue_record returned no chain_state: " + first;
    return "";
  }
  return input(2, MemberAsJson(issued, "chain_state"));
}

const std::string& SpainInput(std::string& error) {
  static std::string build_error;
  static const std::string input = BuildSpainInput(build_error);
  error = build_error;
  return input;
}

// ---- Loaded plugins ----------------------------------------------------------------------------

struct PluginFile {
  const char* label;    // file name of the private copies
  const char* path;     // the built library
  const char* name;     // name in the compatibility block
  const char* country;  // country in the compatibility block
};

constexpr PluginFile kEcho = {"bench-echo", FISCAL_BENCH_ECHO_PLUGIN, "bench-echo", "XX"};
constexpr PluginFile kSpain = {"spain-verifactu", FISCAL_BENCH_SPAIN_PLUGIN, "spain-verifactu", "ES"};

// Returns the minimal-host plugin of `file`, loaded once from a private copy.
const MinimalHostPlugin& MinimalHostFor(const PluginFile& file) {
  static std::map<std::string, std::unique_ptr<MinimalHostPlugin>> loaded;
  auto& plugin = loaded[file.label];
  if (!plugin) {
    std::string copy = ScratchFolder::Instance().Copy(file.path, std::string(file.label) + "-minimal.so");
    plugin = std::make_unique<MinimalHostPlugin>(copy.empty() ? std::string(file.path) : copy);
  }
  return *plugin;
}

// Returns the host's LoadedPlugin of `file`, loaded once from a private copy, or nullptr with
// `error` set.
std::shared_ptr<const plugins::LoadedPlugin> LoadedPluginFor(const PluginFile& file, std::string& error) {
  static std::map<std::string, Result<std::shared_ptr<const plugins::LoadedPlugin>>> loaded;
  auto found = loaded.find(file.label);
  if (found == loaded.end()) {
    plugins::PluginConfig config;
    config.name = file.name;
    config.country = file.country;
    config.system = "bench";
    config.path = ScratchFolder::Instance().Copy(file.path, std::string(file.label) + "-host.so");
    if (config.path.empty()) config.path = file.path;
    found = loaded.emplace(file.label, plugins::LoadPlugin(config, nullptr)).first;
  }
  if (!found->second.ok()) {
    error = found->second.status().message();
    return nullptr;
  }
  return *found->second;
}

plugins::CallContext BenchContext() {
  plugins::CallContext context;
  context.request_id = "bench";
  context.account_id = "00000000-0000-0000-0000-000000000001";
  context.location_id = "00000000-0000-0000-0000-000000000002";
  return context;
}

// ---- Benchmarks --------------------------------------------------------------------------------

void BM_EchoDirect(benchmark::State& state) {
  const std::string& input = EchoInput();
  for (auto _ : state) {
    std::string result = EchoRecord(input);
    benchmark::DoNotOptimize(result);
  }
}

// Each call path must return exactly what the direct call returns; `expected` is that result.
void RunMinimalHost(benchmark::State& state, const PluginFile& file, const std::string& input,
                    const std::string& expected) {
  const MinimalHostPlugin& plugin = MinimalHostFor(file);
  if (!plugin.error().empty()) {
    state.SkipWithError(plugin.error().c_str());
    return;
  }
  MinimalCall check;
  if (plugin.IssueRecord(input, check) != FISCAL_OK || check.result != expected) {
    state.SkipWithError(("the minimal host's result differs from the direct call: " + check.result + check.error).c_str());
    return;
  }
  for (auto _ : state) {
    MinimalCall call;
    fiscal_status status = plugin.IssueRecord(input, call);
    if (status != FISCAL_OK) {
      state.SkipWithError(("issue_record failed: " + call.error).c_str());
      break;
    }
    benchmark::DoNotOptimize(call.result);
  }
}

void RunLoadedPlugin(benchmark::State& state, const PluginFile& file, const std::string& input,
                     const std::string& expected) {
  std::string error;
  std::shared_ptr<const plugins::LoadedPlugin> plugin = LoadedPluginFor(file, error);
  if (!plugin) {
    state.SkipWithError(error.c_str());
    return;
  }
  const plugins::CallContext context = BenchContext();
  plugins::CallOutcome check = plugin->IssueRecord(input, context);
  if (!check.ok() || check.result != expected) {
    state.SkipWithError(("LoadedPlugin's result differs from the direct call: " + check.result + check.error_message).c_str());
    return;
  }
  for (auto _ : state) {
    plugins::CallOutcome outcome = plugin->IssueRecord(input, context);
    if (!outcome.ok()) {
      state.SkipWithError(("issue_record failed: " + outcome.error_message).c_str());
      break;
    }
    benchmark::DoNotOptimize(outcome.result);
  }
}

void BM_EchoMinimalHost(benchmark::State& state) {
  RunMinimalHost(state, kEcho, EchoInput(), EchoRecord(EchoInput()));
}

void BM_EchoLoadedPlugin(benchmark::State& state) {
  RunLoadedPlugin(state, kEcho, EchoInput(), EchoRecord(EchoInput()));
}

// Returns the direct call's result for the Spain input, or "" with `error` set.
std::string SpainExpected(const std::string& input, std::string& error) {
  std::string result;
  spain::Status status = spain::IssueRecord(spain::SystemInfo(), input, &result);
  if (!status.ok()) error = "issue_record failed: " + status.message();
  return result;
}

void BM_SpainDirect(benchmark::State& state) {
  std::string error;
  const std::string& input = SpainInput(error);
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  const spain::SystemInfo system;
  for (auto _ : state) {
    std::string result;
    spain::Status status = spain::IssueRecord(system, input, &result);
    if (!status.ok()) {
      state.SkipWithError(("issue_record failed: " + status.message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
}

void BM_SpainMinimalHost(benchmark::State& state) {
  std::string error;
  const std::string& input = SpainInput(error);
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  std::string expected = SpainExpected(input, error);
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  RunMinimalHost(state, kSpain, input, expected);
}

void BM_SpainLoadedPlugin(benchmark::State& state) {
  std::string error;
  const std::string& input = SpainInput(error);
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  std::string expected = SpainExpected(input, error);
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  RunLoadedPlugin(state, kSpain, input, expected);
}

BENCHMARK(BM_EchoDirect);
BENCHMARK(BM_EchoMinimalHost);
BENCHMARK(BM_EchoLoadedPlugin);
BENCHMARK(BM_SpainDirect);
BENCHMARK(BM_SpainMinimalHost);
BENCHMARK(BM_SpainLoadedPlugin);

}  // namespace
}  // namespace fiscal::bench

BENCHMARK_MAIN();
