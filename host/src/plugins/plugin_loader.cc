// LoadPlugin: the checks and steps that turn a library file into a published LoadedPlugin.
//
// The order matters. Everything that can be decided from the file (hash, compatibility block)
// is decided before dlopen, because dlopen already runs the library's static constructors.

#include "plugins/plugin_loader.h"

#include <openssl/evp.h>

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "common/log.h"
#include "plugins/compatibility.h"
#include "plugins/elf_section.h"
#include "plugins/host_api.h"
#include "plugins/manifest.h"
#include "plugins/plugin_registry.h"

namespace fiscal::plugins {
namespace {

// Handshake results of the libraries currently mapped, by dlopen handle. glibc returns the same
// handle and mapping when a file that is already loaded is opened again, for example on a reload
// from an unchanged path. Calling the entry point again would rewrite the plugin's globals (such as
// its host API pointer) while calls of the earlier generation read them, so the table is reused.
class MappedLibraries {
 public:
  // Created on first use and never destroyed, so that generations released during static
  // destruction still find it.
  static MappedLibraries& Instance() {
    static auto* instance = new MappedLibraries();
    return *instance;
  }

  // Returns the table of the mapping `handle`, calling `handshake` only when the mapping has no
  // user yet. Each success must be paired with one Release.
  Result<const fiscal_plugin_api*> Acquire(
      void* handle, const std::function<Result<const fiscal_plugin_api*>()>& handshake) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = mapped_.find(handle);
    if (found != mapped_.end()) {
      ++found->second.users;
      return found->second.api;
    }

    Result<const fiscal_plugin_api*> api = handshake();
    if (api.ok()) mapped_[handle] = Mapping{*api, 1};
    return api;
  }

  // Drops one user. Call it before the library handle is closed.
  void Release(void* handle) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = mapped_.find(handle);
    if (found != mapped_.end() && --found->second.users == 0) mapped_.erase(found);
  }

 private:
  struct Mapping {
    const fiscal_plugin_api* api = nullptr;
    int users = 0;
  };

  std::mutex mutex_;
  std::map<void*, Mapping> mapped_;
};

// One loaded generation of a plugin file: the library, the plugin's table and its instance.
class LoadedPluginImpl final : public LoadedPlugin {
 public:
  LoadedPluginImpl(PluginConfig config, PluginDescriptor descriptor,
                   std::shared_ptr<net::HttpSender> http_sender)
      : config_(std::move(config)), descriptor_(std::move(descriptor)),
        http_sender_(std::move(http_sender)) {
    target_.plugin_name = config_.name;
    target_.endpoints = &config_.endpoints;
    target_.http_sender = http_sender_.get();
  }

  // Destroys the instance while the library is still mapped. library_ is unloaded afterwards
  // because it is the first member. The registry's shared_ptr guarantees that no call is running.
  ~LoadedPluginImpl() override {
    if (instance_ != nullptr) api_->destroy(instance_);
    if (api_acquired_) MappedLibraries::Instance().Release(library_.native());
  }

  LoadedPluginImpl(const LoadedPluginImpl&) = delete;
  LoadedPluginImpl& operator=(const LoadedPluginImpl&) = delete;

  const PluginDescriptor& descriptor() const override { return descriptor_; }
  const PluginConfig& config() const override { return config_; }

  boost::dll::shared_library& library() { return library_; }
  const std::string& label() const { return label_; }
  void set_label(std::string label) { label_ = std::move(label); }
  // Stores the table acquired from MappedLibraries, which the destructor releases.
  void set_acquired_api(const fiscal_plugin_api* api) {
    api_ = api;
    api_acquired_ = true;
  }

  // Calls create() and keeps the instance. Returns the plugin's error on failure.
  Status Create(const CallContext& context) {
    // The ABI promises the plugin a JSON object, "{}" when the configuration has none.
    std::string_view config_json = config_.config_json.empty() ? std::string_view("{}") : config_.config_json;
    fiscal_instance* instance = nullptr;
    CallOptions options;
    options.result_required = false;
    CallOutcome outcome = RunPluginCall(target_, context, "create", options, [&](fiscal_call* call) {
      return api_->create(config_json.data(), config_json.size(), call, &instance);
    });

    if (!outcome.ok()) {
      // A failed create must not leave anything behind. The ABI gives no instance on failure,
      // but a plugin that stored one anyway still gets it freed.
      if (instance != nullptr) api_->destroy(instance);
      return Status::Internal(label_ + ": create failed with " + StatusCodeName(outcome.status) + ": " +
                              outcome.error_message);
    }
    if (instance == nullptr) {
      return Status::Internal(label_ + ": create returned FISCAL_OK but no instance");
    }
    instance_ = instance;
    return Status::Ok();
  }

  CallOutcome SelfTest(const CallContext& context) const override {
    return Run(context, "self_test", false,
               [&](fiscal_call* call) { return api_->self_test(instance_, call); });
  }

  CallOutcome ValidateLocation(std::string_view config_json, const CallContext& context) const override {
    return Run(context, "validate_location", false, [&](fiscal_call* call) {
      return api_->validate_location(instance_, config_json.data(), config_json.size(), call);
    });
  }

  CallOutcome IssueRecord(std::string_view input_json, const CallContext& context) const override {
    return Run(context, "issue_record", false, [&](fiscal_call* call) {
      return api_->issue_record(instance_, input_json.data(), input_json.size(), call);
    });
  }

  CallOutcome SubmitBatch(std::string_view input_json, const CallContext& context) const override {
    return Run(context, "submit_batch", true, [&](fiscal_call* call) {
      return api_->submit_batch(instance_, input_json.data(), input_json.size(), call);
    });
  }

  CallOutcome RenderReceipt(std::string_view input_json, const CallContext& context) const override {
    return Run(context, "render_receipt", false, [&](fiscal_call* call) {
      return api_->render_receipt(instance_, input_json.data(), input_json.size(), call);
    });
  }

 private:
  CallOutcome Run(const CallContext& context, std::string_view operation, bool network_operation,
                  const std::function<fiscal_status(fiscal_call*)>& invoke) const {
    CallOptions options;
    options.network_operation = network_operation;
    return RunPluginCall(target_, context, operation, options, invoke);
  }

  // Declared first so that it is destroyed last, after the destructor has freed the instance.
  boost::dll::shared_library library_;
  PluginConfig config_;
  PluginDescriptor descriptor_;
  std::shared_ptr<net::HttpSender> http_sender_;
  CallTarget target_;
  std::string label_;
  const fiscal_plugin_api* api_ = nullptr;
  bool api_acquired_ = false;
  fiscal_instance* instance_ = nullptr;
};

// Host context of the fiscal_host_access given to the entry point.
struct HandshakeState {
  std::string error;
  bool requested = false;
  uint32_t requested_major = 0;
  uint32_t requested_minor = 0;
};

const fiscal_host_api* GetHostApi(const fiscal_host_access* access, uint32_t major,
                                  uint32_t min_minor) noexcept {
  if (access == nullptr) return nullptr;
  auto* state = static_cast<HandshakeState*>(access->host_context);
  state->requested = true;
  state->requested_major = major;
  state->requested_minor = min_minor;
  return FindHostApi(major, min_minor);
}

void SetHandshakeError(const fiscal_host_access* access, const char* message, size_t size) noexcept {
  if (access == nullptr || message == nullptr) return;
  try {
    static_cast<HandshakeState*>(access->host_context)->error.assign(message, std::min<size_t>(size, 4096));
  } catch (...) {
    // The entry point's status still reports the failure.
  }
}

Status LoadLibrary(boost::dll::shared_library& library, const PluginConfig& config,
                   const std::string& label) {
  try {
    library.load(config.path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& error) {
    // Boost.DLL 1.74 puts the dlerror() text into what() of the throwing overload only.
    return Status::Internal(label + ": dlopen failed: " + error.what());
  } catch (...) {
    return Status::Internal(label + ": dlopen failed with an exception of unknown type");
  }
  return Status::Ok();
}

// Compares the block the library exports with the one read from the file, byte for byte, so that
// the checked block is the one the loaded code was built with.
Status CrossCheckExportedBlock(boost::dll::shared_library& library, std::string_view file_block,
                               const std::string& label) {
  const fiscal_plugin_info* exported = nullptr;
  try {
    if (!library.has(FISCAL_PLUGIN_INFO_SYMBOL)) {
      return Status::Internal(label + ": missing symbol " FISCAL_PLUGIN_INFO_SYMBOL
                              ": the library does not export its compatibility block");
    }
    exported = &library.get<const fiscal_plugin_info>(FISCAL_PLUGIN_INFO_SYMBOL);
  } catch (const std::exception& error) {
    return Status::Internal(label + ": looking up " FISCAL_PLUGIN_INFO_SYMBOL " failed: " + error.what());
  }

  // CheckCompatibilityBlock accepted struct_size, so it is within the section.
  uint32_t size = 0;
  std::memcpy(&size, file_block.data() + sizeof(uint32_t), sizeof(size));
  if (std::memcmp(exported, file_block.data(), size) != 0) {
    return Status::Internal(label + ": the exported " FISCAL_PLUGIN_INFO_SYMBOL
                            " differs from section " FISCAL_PLUGIN_INFO_SECTION " in the file");
  }
  return Status::Ok();
}

Result<fiscal_plugin_entry_fn> FindEntryPoint(boost::dll::shared_library& library,
                                              const std::string& label) {
  try {
    if (!library.has(FISCAL_PLUGIN_ENTRY_SYMBOL)) {
      return Status::Internal(label + ": missing entry point: the library does not export " +
                              FISCAL_PLUGIN_ENTRY_SYMBOL);
    }
    return &library.get<fiscal_status(const fiscal_host_access*, const fiscal_plugin_api**)>(
        FISCAL_PLUGIN_ENTRY_SYMBOL);
  } catch (const std::exception& error) {
    return Status::Internal(label + ": looking up " FISCAL_PLUGIN_ENTRY_SYMBOL " failed: " + error.what());
  }
}

// Calls the entry point and returns the plugin's function table.
Result<const fiscal_plugin_api*> Handshake(fiscal_plugin_entry_fn entry, const std::string& label) {
  HandshakeState state;
  fiscal_host_access access{};
  access.struct_size = sizeof(access);
  access.get_host_api = &GetHostApi;
  access.set_error = &SetHandshakeError;
  access.host_context = &state;

  const fiscal_plugin_api* api = nullptr;
  fiscal_status status = FISCAL_ERR_INTERNAL;
  try {
    status = entry(&access, &api);
  } catch (...) {
    return Status::Internal(label + ": entry point " FISCAL_PLUGIN_ENTRY_SYMBOL " threw an exception");
  }

  if (status != FISCAL_OK) {
    std::string message = label + ": entry point " FISCAL_PLUGIN_ENTRY_SYMBOL " failed with " +
                          StatusCodeName(status);
    if (state.requested && FindHostApi(state.requested_major, state.requested_minor) == nullptr) {
      message += " (plugin requested host API " + std::to_string(state.requested_major) + "." +
                 std::to_string(state.requested_minor) + ", this host provides " +
                 std::to_string(FISCAL_ABI_MAJOR) + "." + std::to_string(FISCAL_ABI_MINOR) + ")";
    }
    message += state.error.empty() ? " (no error message)" : ": " + state.error;
    return Status::Internal(message);
  }
  if (api == nullptr) {
    return Status::Internal(label + ": entry point " FISCAL_PLUGIN_ENTRY_SYMBOL
                            " returned FISCAL_OK but no function table");
  }
  return api;
}

}  // namespace

Result<std::string> Sha256OfFile(const std::string& path) {
  errno = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::Internal("cannot open " + path + ": " +
                            (errno != 0 ? std::strerror(errno) : "unknown error"));
  }

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    return Status::Internal("cannot start a SHA-256 digest for " + path);
  }

  std::vector<char> buffer(64 * 1024);
  while (file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    std::streamsize count = file.gcount();
    if (count > 0 && EVP_DigestUpdate(context.get(), buffer.data(), static_cast<size_t>(count)) != 1) {
      return Status::Internal("SHA-256 digest update failed for " + path);
    }
  }
  if (file.bad()) return Status::Internal("read failed while computing the SHA-256 of " + path);

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_DigestFinal_ex(context.get(), digest, &digest_size) != 1) {
    return Status::Internal("SHA-256 digest failed for " + path);
  }

  std::string hex;
  hex.reserve(digest_size * 2);
  for (unsigned int i = 0; i < digest_size; ++i) {
    char pair[3];
    std::snprintf(pair, sizeof(pair), "%02x", digest[i]);
    hex += pair;
  }
  return hex;
}

Status CheckPluginApi(const fiscal_plugin_api* api, uint32_t needed_minor, const std::string& label) {
  if (api == nullptr) return Status::Internal(label + ": the plugin API table is null");
  if (api->struct_size < kPluginApiSize_1_0) {
    return Status::Internal(label + ": invalid plugin API table struct_size: plugin has " +
                            std::to_string(api->struct_size) + ", ABI 1.0 needs at least " +
                            std::to_string(kPluginApiSize_1_0));
  }
  if (api->abi_minor < needed_minor) {
    return Status::Internal(label + ": invalid plugin API table abi_minor: the table has " +
                            std::to_string(api->abi_minor) + ", but the compatibility block needs host minor " +
                            std::to_string(needed_minor));
  }

  const std::pair<const char*, bool> functions[] = {
      {"create", api->create != nullptr},
      {"destroy", api->destroy != nullptr},
      {"self_test", api->self_test != nullptr},
      {"validate_location", api->validate_location != nullptr},
      {"issue_record", api->issue_record != nullptr},
      {"submit_batch", api->submit_batch != nullptr},
      {"render_receipt", api->render_receipt != nullptr},
  };
  for (const auto& [name, present] : functions) {
    if (!present) {
      return Status::Internal(label + ": the plugin API table has a null " + name +
                              " function, and ABI 1.0 requires every function");
    }
  }
  return Status::Ok();
}

Result<std::shared_ptr<const LoadedPlugin>> LoadPlugin(const PluginConfig& config,
                                                       std::shared_ptr<net::HttpSender> http_sender) {
  const std::string label = PluginLabel(config);

  // Certification comes first, so that a refused build is not even parsed. config.path is the
  // file dlopen opens below (the registry's content-addressed copy), so the hash covers those bytes.
  ManifestInfo certification;
  FISCAL_RETURN_IF_ERROR(VerifyCertification(config, config.path, &certification));

  // NOTE: the file is opened four times (certification hash, hash, section, dlopen). Replacing it
  // in between would load code other than the code checked, so plugins must be deployed under new
  // file names, never rewritten in place.
  Result<std::string> sha256 = Sha256OfFile(config.path);
  if (!sha256.ok()) return Status::Internal(label + ": " + sha256.status().message());

  Result<std::string> block = ReadElfSection(config.path, FISCAL_PLUGIN_INFO_SECTION);
  if (!block.ok()) {
    return Status::Internal(label + ": cannot read the compatibility block: " + block.status().message());
  }
  Result<PluginDescriptor> descriptor = CheckCompatibilityBlock(*block, config);
  if (!descriptor.ok()) return descriptor.status();
  descriptor->sha256 = std::move(*sha256);
  CopyCertification(certification, &*descriptor);
  uint32_t needed_minor = descriptor->abi_minor;

  // From here on the plugin owns loaded code. Any failure returns early and the destructor of
  // `plugin` frees what was created, in reverse order.
  auto plugin = std::make_shared<LoadedPluginImpl>(config, std::move(*descriptor), std::move(http_sender));
  plugin->set_label(label);
  FISCAL_RETURN_IF_ERROR(LoadLibrary(plugin->library(), config, label));
  FISCAL_RETURN_IF_ERROR(CrossCheckExportedBlock(plugin->library(), *block, label));

  Result<fiscal_plugin_entry_fn> entry = FindEntryPoint(plugin->library(), label);
  if (!entry.ok()) return entry.status();
  Result<const fiscal_plugin_api*> api = MappedLibraries::Instance().Acquire(
      plugin->library().native(), [&] { return Handshake(*entry, label); });
  if (!api.ok()) return api.status();
  plugin->set_acquired_api(*api);
  FISCAL_RETURN_IF_ERROR(CheckPluginApi(*api, needed_minor, label));

  CallContext context;
  context.request_id = "load";
  FISCAL_RETURN_IF_ERROR(plugin->Create(context));

  CallOutcome self_test = plugin->SelfTest(context);
  if (!self_test.ok()) {
    return Status::Internal(label + ": self_test failed with " + StatusCodeName(self_test.status) + ": " +
                            self_test.error_message);
  }

  return std::shared_ptr<const LoadedPlugin>(std::move(plugin));
}

}  // namespace fiscal::plugins
