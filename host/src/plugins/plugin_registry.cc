#include "plugins/plugin_registry.h"

#include <fcntl.h>
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <set>
#include <utility>

#include "common/log.h"
#include "plugins/manifest.h"
#include "plugins/plugin_loader.h"
#include "plugins/plugin_probe.h"

namespace fiscal::plugins {
namespace {

namespace fs = std::filesystem;

std::string Label(const PluginConfig& config, const std::string& path) {
  return "plugin \"" + config.name + "\" (" + path + ")";
}

// Finds the file of `version`: the configured path, or the one shared library in
// <plugin_dir>/<name>/<version>/.
Result<std::string> ResolveSource(const PluginConfig& config, const std::string& version) {
  if (!config.path.empty() && (version.empty() || version == config.version)) return config.path;

  fs::path folder = fs::path(config.plugin_dir) / config.name / version;
  std::error_code error;
  std::vector<std::string> libraries;
  for (const auto& file : fs::directory_iterator(folder, error)) {
    if (file.path().extension() == ".so") libraries.push_back(file.path().string());
  }
  if (error) {
    return Status::Internal(Label(config, folder.string()) + ": version " + version +
                            " is not installed: " + error.message());
  }
  if (libraries.size() != 1) {
    return Status::Internal(Label(config, folder.string()) + ": expected exactly one .so file for version " +
                            version + ", found " + std::to_string(libraries.size()));
  }
  return libraries.front();
}

// Copies `source` to <cache_dir>/<sha256>.so unless that file exists with the right content. The
// copy is written to a temporary name, flushed and renamed, so a reader never sees half a file, and
// the host never maps a file that an installer may overwrite later.
Result<std::string> StageCopy(const PluginConfig& config, const std::string& source, const std::string& sha256) {
  if (config.cache_dir.empty()) return source;
  std::error_code error;
  fs::create_directories(config.cache_dir, error);
  if (error) return Status::Internal("cannot create plugin cache folder " + config.cache_dir + ": " + error.message());

  std::string target = (fs::path(config.cache_dir) / (sha256 + ".so")).string();
  if (fs::exists(target)) {
    Result<std::string> existing = Sha256OfFile(target);
    if (existing.ok() && *existing == sha256) return target;
  }

  std::string temporary = target + ".tmp." + std::to_string(getpid());
  fs::copy_file(source, temporary, fs::copy_options::overwrite_existing, error);
  if (error) return Status::Internal("cannot copy " + source + " to " + temporary + ": " + error.message());
  int fd = open(temporary.c_str(), O_RDONLY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  fs::rename(temporary, target, error);
  if (error) return Status::Internal("cannot rename " + temporary + " to " + target + ": " + error.message());

  // The source may have changed between hashing and copying; the copy must be what was hashed.
  Result<std::string> copied = Sha256OfFile(target);
  if (!copied.ok()) return copied.status();
  if (*copied != sha256) {
    fs::remove(target, error);
    return Status::Internal(Label(config, source) + ": the file changed while it was being copied; retry the reload");
  }
  return target;
}

// Loads one staged library. Never throws.
Result<std::shared_ptr<const LoadedPlugin>> LoadStaged(const PluginConfig& config, const std::string& staged,
                                                       const std::shared_ptr<net::HttpSender>& sender) {
  PluginConfig staged_config = config;
  staged_config.path = staged;
  try {
    return LoadPlugin(staged_config, sender);
  } catch (const std::exception& error) {
    return Status::Internal(Label(config, staged) + ": loading failed with an exception: " + error.what());
  } catch (...) {
    return Status::Internal(Label(config, staged) + ": loading failed with an exception of unknown type");
  }
}

std::vector<std::string> InstalledVersions(const PluginConfig& config) {
  std::vector<std::string> versions;
  std::error_code error;
  for (const auto& folder : fs::directory_iterator(fs::path(config.plugin_dir) / config.name, error)) {
    if (folder.is_directory()) versions.push_back(folder.path().filename().string());
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

}  // namespace

PluginRegistry::PluginRegistry(std::shared_ptr<net::HttpSender> http_sender)
    : http_sender_(std::move(http_sender)) {}

Status PluginRegistry::LoadEntry(const PluginConfig& config, Entry& entry) {
  // Forget retired generations that no operation references any more.
  std::erase_if(entry.retired, [](const std::weak_ptr<const LoadedPlugin>& weak) { return weak.expired(); });

  // The versions this entry serves: the default and every per-location pin.
  std::set<std::string> versions = {config.version};
  for (const auto& [location, version] : config.location_versions) versions.insert(version);

  std::map<std::string, std::shared_ptr<const LoadedPlugin>> next;
  std::string default_version = config.version;
  Status first_error;

  for (const std::string& version : versions) {
    // A path-only entry (no version configured) replaces its current default version.
    std::string key = version.empty() ? entry.default_version : version;
    auto previous = entry.by_version.find(key);
    auto keep_previous = [&](const Status& error) {
      log::Error("plugin " + config.name + " failed to load",
                 {{"plugin", config.name}, {"version", version}, {"error", error.message()}});
      Status reported = error;
      if (previous != entry.by_version.end()) {
        next[key] = previous->second;
        reported = Status::Internal("still serving version " + previous->second->descriptor().version + " from " +
                                    previous->second->descriptor().path + " because the new load failed: " +
                                    error.message());
      }
      if (first_error.ok()) first_error = reported;
    };

    Result<std::string> source = ResolveSource(config, version);
    if (!source.ok()) {
      keep_previous(source.status());
      continue;
    }
    Result<std::string> sha256 = Sha256OfFile(*source);
    if (!sha256.ok()) {
      keep_previous(Status::Internal(Label(config, *source) + ": " + sha256.status().message()));
      continue;
    }

    // The same file is already serving: nothing to do, unless strict mode now requires a
    // certification the running generation does not have.
    bool needs_certification = config.trust_mode == "strict" && previous != entry.by_version.end() &&
                               !previous->second->descriptor().certified;
    if (previous != entry.by_version.end() && previous->second->descriptor().sha256 == *sha256 &&
        !needs_certification) {
      next[key] = previous->second;
      continue;
    }

    Result<std::string> staged = StageCopy(config, *source, *sha256);
    if (!staged.ok()) {
      keep_previous(staged.status());
      continue;
    }
    // The manifest travels with the copy, so that certification checks the file that is loaded.
    Status manifest_staged = StageManifest(*source, *staged);
    if (!manifest_staged.ok()) {
      keep_previous(Status::Internal(Label(config, *source) + ": " + manifest_staged.message()));
      continue;
    }
    // A plugin that crashes while loading or self-testing must not take the host with it.
    if (!probe_executable_.empty()) {
      PluginConfig probe_config = config;
      probe_config.path = *staged;
      Status probed = ProbePlugin(probe_executable_, probe_config);
      if (!probed.ok()) {
        keep_previous(probed);
        continue;
      }
    }
    Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadStaged(config, *staged, http_sender_);
    if (!loaded.ok()) {
      keep_previous(loaded.status());
      continue;
    }
    const PluginDescriptor& descriptor = (*loaded)->descriptor();
    if (!version.empty() && descriptor.version != version) {
      keep_previous(Status::Internal(Label(config, *source) + ": the library declares version " + descriptor.version +
                                     " but the configuration asks for " + version));
      continue;
    }

    log::Info("plugin " + config.name + " loaded", {{"plugin", config.name},
                                                    {"version", descriptor.version},
                                                    {"sha256", descriptor.sha256},
                                                    {"source", *source},
                                                    {"path", descriptor.path}});
    // A path-only entry is keyed by the version the library declares.
    std::string loaded_key = version.empty() ? descriptor.version : version;
    if (version.empty()) default_version = loaded_key;
    next[loaded_key] = *loaded;
  }

  // A reload is all or nothing: when any version fails, the entry keeps serving exactly what it
  // served before, and the new generations loaded so far are dropped. Only a first load publishes
  // what it could, so that a host starts with as much as possible.
  if (!first_error.ok() && !entry.by_version.empty()) {
    entry.error = first_error.message();
    return first_error;
  }
  if (default_version.empty()) default_version = entry.default_version;

  // Generations that are no longer served are retired; the last operation holding one destroys it.
  for (const auto& [version, plugin] : entry.by_version) {
    bool kept = false;
    for (const auto& [next_version, next_plugin] : next) kept = kept || next_plugin == plugin;
    if (!kept) {
      entry.retired.push_back(plugin);
      log::Info("plugin generation retired", {{"plugin", config.name}, {"version", version},
                                              {"sha256", plugin->descriptor().sha256}});
    }
  }
  entry.config = config;
  entry.default_version = default_version;
  entry.by_version = std::move(next);
  entry.error = first_error.ok() ? "" : first_error.message();
  return first_error;
}

void PluginRegistry::LoadAll(const std::vector<PluginConfig>& configs) {
  std::lock_guard<std::mutex> load_lock(load_mutex_);

  std::set<std::string> names;
  std::set<std::pair<std::string, std::string>> served;
  std::vector<std::string> order;
  std::map<std::string, Entry, std::less<>> entries;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    entries = entries_;
  }

  for (const PluginConfig& config : configs) {
    bool new_name = names.insert(config.name).second;
    bool new_service = served.insert({config.country, config.system}).second;
    if (!new_name || !new_service) {
      std::string error = Label(config, config.path) +
                          ": duplicate configuration: another plugin entry has the same name or serves the same "
                          "country \"" + config.country + "\" and system \"" + config.system + "\"";
      log::Error("plugin " + config.name + " failed to load", {{"plugin", config.name}, {"error", error}});
      if (new_name) {
        Entry& rejected = entries[config.name];
        rejected.config = config;
        rejected.error = error;
        order.push_back(config.name);
      }
      continue;
    }
    order.push_back(config.name);
    Entry& entry = entries[config.name];
    LoadEntry(config, entry);
  }

  // Entries no longer configured stop serving; their generations retire.
  for (auto it = entries.begin(); it != entries.end();) {
    if (names.count(it->first) != 0) {
      ++it;
      continue;
    }
    log::Info("plugin removed from the configuration", {{"plugin", it->first}});
    it = entries.erase(it);
  }

  std::lock_guard<std::mutex> lock(mutex_);
  entries_ = std::move(entries);
  order_ = std::move(order);
}

Status PluginRegistry::Reload(const PluginConfig& config) {
  std::lock_guard<std::mutex> load_lock(load_mutex_);
  Entry entry;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = entries_.find(config.name);
    if (found != entries_.end()) entry = found->second;
  }

  Status status = LoadEntry(config, entry);

  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.find(config.name) == entries_.end()) order_.push_back(config.name);
  entries_[config.name] = std::move(entry);
  return status;
}

std::shared_ptr<const LoadedPlugin> PluginRegistry::FindFor(std::string_view country, std::string_view system) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, entry] : entries_) {
    if (entry.config.country != country || entry.config.system != system) continue;
    auto found = entry.by_version.find(entry.default_version);
    return found == entry.by_version.end() ? nullptr : found->second;
  }
  return nullptr;
}

std::shared_ptr<const LoadedPlugin> PluginRegistry::Find(std::string_view name) const {
  return FindForLocation(name, "");
}

std::shared_ptr<const LoadedPlugin> PluginRegistry::FindForLocation(std::string_view name,
                                                                    const std::string& location_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto entry = entries_.find(name);
  if (entry == entries_.end()) return nullptr;
  std::string version = entry->second.default_version;
  auto pin = entry->second.config.location_versions.find(location_id);
  if (!location_id.empty() && pin != entry->second.config.location_versions.end()) version = pin->second;
  auto found = entry->second.by_version.find(version);
  return found == entry->second.by_version.end() ? nullptr : found->second;
}

std::vector<PluginState> PluginRegistry::States() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<PluginState> states;
  for (const std::string& name : order_) {
    auto it = entries_.find(name);
    if (it == entries_.end()) continue;
    const Entry& entry = it->second;

    PluginState state;
    state.name = name;
    state.country = entry.config.country;
    state.system = entry.config.system;
    state.path = entry.config.path;
    state.error = entry.error;
    state.location_versions = entry.config.location_versions;
    state.installed_versions = InstalledVersions(entry.config);
    auto default_generation = entry.by_version.find(entry.default_version);
    state.loaded = default_generation != entry.by_version.end();
    if (state.loaded) state.version = entry.default_version;

    for (const auto& [version, plugin] : entry.by_version) {
      GenerationState generation;
      generation.version = version;
      generation.sha256 = plugin->descriptor().sha256;
      generation.loaded_path = plugin->descriptor().path;
      generation.role = version == entry.default_version ? "default" : "pinned";
      generation.certified = plugin->descriptor().certified;
      generation.signer_key_id = plugin->descriptor().signer_key_id;
      generation.certification_json = plugin->descriptor().certification_json;
      // The registry holds one reference; every other one is an operation in progress.
      generation.in_flight = plugin.use_count() - 1;
      state.generations.push_back(std::move(generation));
    }
    for (const auto& weak : entry.retired) {
      std::shared_ptr<const LoadedPlugin> plugin = weak.lock();
      if (!plugin) continue;
      GenerationState generation;
      generation.version = plugin->descriptor().version;
      generation.sha256 = plugin->descriptor().sha256;
      generation.loaded_path = plugin->descriptor().path;
      generation.role = "retired";
      generation.certified = plugin->descriptor().certified;
      generation.signer_key_id = plugin->descriptor().signer_key_id;
      generation.certification_json = plugin->descriptor().certification_json;
      generation.in_flight = plugin.use_count() - 1;  // minus the copy made just above
      state.generations.push_back(std::move(generation));
    }
    states.push_back(std::move(state));
  }
  return states;
}

}  // namespace fiscal::plugins
