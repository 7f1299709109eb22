#include "plugins/plugin_registry.h"

#include <exception>
#include <set>
#include <utility>

#include "common/log.h"

namespace fiscal::plugins {
namespace {

// Loads one plugin and logs the outcome. Never throws.
Result<std::shared_ptr<const LoadedPlugin>> LoadAndLog(const PluginConfig& config,
                                                       const std::shared_ptr<net::HttpSender>& sender) {
  Result<std::shared_ptr<const LoadedPlugin>> loaded = Status::Internal("not loaded");
  try {
    loaded = LoadPlugin(config, sender);
  } catch (const std::exception& error) {
    loaded = Status::Internal("plugin \"" + config.name + "\" (" + config.path +
                              "): loading failed with an exception: " + error.what());
  } catch (...) {
    loaded = Status::Internal("plugin \"" + config.name + "\" (" + config.path +
                              "): loading failed with an exception of unknown type");
  }

  if (!loaded.ok()) {
    // The plugin name is part of the message because the log folds repeats of one message, and
    // every failed plugin must show up.
    log::Error("plugin " + config.name + " failed to load",
               {{"plugin", config.name}, {"path", config.path}, {"error", loaded.status().message()}});
    return loaded;
  }
  const PluginDescriptor& descriptor = (*loaded)->descriptor();
  log::Info("plugin " + descriptor.name + " loaded",
            {{"plugin", descriptor.name},
             {"version", descriptor.version},
             {"country", descriptor.country},
             {"system", config.system},
             {"sha256", descriptor.sha256},
             {"path", descriptor.path}});
  return loaded;
}

}  // namespace

PluginRegistry::PluginRegistry(std::shared_ptr<net::HttpSender> http_sender)
    : http_sender_(std::move(http_sender)) {}

void PluginRegistry::LoadAll(const std::vector<PluginConfig>& configs) {
  std::lock_guard<std::mutex> load_lock(load_mutex_);

  std::vector<PluginState> states;
  std::map<std::string, std::shared_ptr<const LoadedPlugin>, std::less<>> loaded;
  std::set<std::string> names;
  std::set<std::pair<std::string, std::string>> served;  // (country, system) already taken

  // Loading runs outside the lock: it opens files and runs plugin self-tests, and callers of Find
  // must not wait for that.
  for (const PluginConfig& config : configs) {
    PluginState state;
    state.name = config.name;
    state.country = config.country;
    state.system = config.system;
    state.path = config.path;

    bool new_name = names.insert(config.name).second;
    bool new_service = served.insert({config.country, config.system}).second;
    if (!new_name || !new_service) {
      state.error = "plugin \"" + config.name + "\" (" + config.path +
                    "): duplicate configuration: another plugin entry has the same name or serves the "
                    "same country \"" + config.country + "\" and system \"" + config.system + "\"";
      // The plugin name is part of the message because the log folds repeats of one message, and
    // every failed plugin must show up.
    log::Error("plugin " + config.name + " failed to load",
                 {{"plugin", config.name}, {"path", config.path}, {"error", state.error}});
      states.push_back(std::move(state));
      continue;
    }

    Result<std::shared_ptr<const LoadedPlugin>> plugin = LoadAndLog(config, http_sender_);
    if (plugin.ok()) {
      state.loaded = true;
      state.version = (*plugin)->descriptor().version;
      loaded.emplace(config.name, std::move(*plugin));
    } else {
      state.error = plugin.status().message();
    }
    states.push_back(std::move(state));
  }

  std::lock_guard<std::mutex> lock(mutex_);

  // A plugin that loaded before but fails now keeps serving its earlier generation, so that a bad
  // deployment does not take a working country offline. Its state shows the new error.
  for (PluginState& state : states) {
    if (state.loaded) continue;
    auto previous = loaded_.find(state.name);
    if (previous == loaded_.end()) continue;
    const PluginConfig& previous_config = previous->second->config();
    if (previous_config.country != state.country || previous_config.system != state.system) continue;
    if (loaded.count(state.name) != 0) continue;
    state.loaded = true;
    state.version = previous->second->descriptor().version;
    state.error = "still serving version " + state.version + " from " + previous_config.path +
                  " because the new load failed: " + state.error;
    loaded.emplace(state.name, previous->second);
  }

  // Old generations stay alive while calls hold their shared_ptr, and are destroyed by the last one.
  loaded_ = std::move(loaded);
  states_ = std::move(states);
}

std::shared_ptr<const LoadedPlugin> PluginRegistry::FindFor(std::string_view country,
                                                            std::string_view system) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, plugin] : loaded_) {
    const PluginConfig& config = plugin->config();
    if (config.country == country && config.system == system) return plugin;
  }
  return nullptr;
}

std::shared_ptr<const LoadedPlugin> PluginRegistry::Find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = loaded_.find(name);
  return found == loaded_.end() ? nullptr : found->second;
}

std::vector<PluginState> PluginRegistry::States() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return states_;
}

}  // namespace fiscal::plugins
