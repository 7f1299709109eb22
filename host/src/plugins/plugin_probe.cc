#include "plugins/plugin_probe.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "common/json.h"
#include "common/json_tree.h"
#include "common/log.h"

extern char** environ;

namespace fiscal::plugins {
namespace {

constexpr size_t kMaxOutputBytes = 64 * 1024;

std::string ConfigToJson(const PluginConfig& config) {
  std::string keys = "[";
  for (size_t i = 0; i < config.trusted_keys.size(); ++i) keys += (i > 0 ? "," : "") + json::Quote(config.trusted_keys[i]);
  keys += "]";
  return "{\"name\":" + json::Quote(config.name) + ",\"country\":" + json::Quote(config.country) + ",\"system\":" +
         json::Quote(config.system) + ",\"path\":" + json::Quote(config.path) + ",\"config_json\":" +
         json::Quote(config.config_json) + ",\"trust_mode\":" + json::Quote(config.trust_mode) +
         ",\"trusted_keys\":" + keys + "}";
}

std::string Text(const json::Node& node, const char* name) {
  const json::Node* member = node.Find(name);
  return member != nullptr && member->IsString() ? member->text() : std::string();
}

}  // namespace

Status ProbePlugin(const std::string& executable, const PluginConfig& config, int timeout_seconds) {
  std::string label = "plugin \"" + config.name + "\" (" + config.path + ")";
  int output[2];
  if (pipe(output) != 0) return Status::Internal(label + ": cannot create a pipe for the probe: " + strerror(errno));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, output[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, output[0]);
  posix_spawn_file_actions_addclose(&actions, output[1]);

  std::string argument = ConfigToJson(config);
  char* argv[] = {const_cast<char*>(executable.c_str()), const_cast<char*>("--probe-plugin"),
                  const_cast<char*>(argument.c_str()), nullptr};
  pid_t child = 0;
  int spawned = posix_spawn(&child, executable.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(output[1]);
  if (spawned != 0) {
    close(output[0]);
    return Status::Internal(label + ": cannot start the load probe " + executable + ": " + strerror(spawned));
  }

  // Read the child's verdict until it closes its output or the time runs out.
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd descriptor{output[0], POLLIN, 0};
    int ready = poll(&descriptor, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buffer[4096];
    ssize_t got = read(output[0], buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (text.size() < kMaxOutputBytes) text.append(buffer, static_cast<size_t>(got));
  }
  close(output[0]);
  if (timed_out) kill(child, SIGKILL);

  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();

  if (timed_out) {
    return Status::Internal(label + ": loading or the self-test did not finish within " +
                            std::to_string(timeout_seconds) + " s in the load probe; the plugin was not loaded");
  }
  if (WIFSIGNALED(status)) {
    int signal_number = WTERMSIG(status);
    return Status::Internal(label + ": the plugin crashed during loading or its self-test (signal " +
                            std::to_string(signal_number) + ", " + strsignal(signal_number) +
                            ") in the load probe; it was not loaded into the host");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  return Status::Internal(text.empty() ? label + ": the load probe failed without a message" : text);
}

int RunPluginProbe(const std::string& config_json) {
  // Only the verdict matters; the parent logs it.
  log::SetMinimumSeverity(log::Severity::kError);
  Result<json::Node> parsed = json::Parse(config_json, "probe configuration");
  if (!parsed.ok()) {
    std::cout << parsed.status().message() << std::endl;
    return 2;
  }

  PluginConfig config;
  config.name = Text(*parsed, "name");
  config.country = Text(*parsed, "country");
  config.system = Text(*parsed, "system");
  config.path = Text(*parsed, "path");
  config.config_json = Text(*parsed, "config_json");
  config.trust_mode = Text(*parsed, "trust_mode");
  if (const json::Node* keys = parsed->Find("trusted_keys"); keys != nullptr && keys->IsArray()) {
    for (const json::Node& key : keys->items()) config.trusted_keys.push_back(key.text());
  }

  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(config, nullptr);
  if (!loaded.ok()) {
    std::cout << loaded.status().message() << std::endl;
    return 1;
  }
  std::cout << "OK" << std::endl;
  return 0;
}

}  // namespace fiscal::plugins
