// Crash containment at load time: before a plugin is loaded into the host, a child process (the
// host binary started with --probe-plugin) loads it and runs its self-test. A plugin that crashes
// or hangs there takes down only the child, and the host refuses it with the signal named.
//
// NOTE: this covers loading and the self-test only. A plugin that crashes later, inside a call,
// still takes the host process down; isolating every call needs out-of-process plugins.
#pragma once

#include <string>

#include "common/status.h"
#include "plugins/plugin_registry.h"

namespace fiscal::plugins {

// Loads `config` in a child process started as `executable --probe-plugin <config>`. Returns OK when
// the child loaded the plugin and its self-test passed, else why not (its error message, a signal,
// or a timeout after `timeout_seconds`).
Status ProbePlugin(const std::string& executable, const PluginConfig& config, int timeout_seconds = 30);

// The child's side: loads the plugin described by `config_json`, prints "OK" or the error on
// standard output, and returns the process exit code (0 when loaded).
int RunPluginProbe(const std::string& config_json);

}  // namespace fiscal::plugins
