// PluginRegistry: loads what it can, reports what it cannot, and keeps serving while it reloads.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fiscal/plugin_abi.h>

#include "plugins/plugin_registry.h"

namespace fiscal::plugins {
namespace {

PluginConfig Config(const std::string& file, const std::string& name, const std::string& system) {
  PluginConfig config;
  config.name = name;
  config.country = "XX";
  config.system = system;
  config.path = std::string(FISCAL_PLUGIN_DIR) + "/corpus/" + file + ".so";
  return config;
}

const PluginState* StateOf(const std::vector<PluginState>& states, const std::string& name) {
  for (const PluginState& state : states) {
    if (state.name == name) return &state;
  }
  return nullptr;
}

class PluginRegistryTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(std::string(FISCAL_PLUGIN_DIR) + "/corpus/good.so")) {
      GTEST_SKIP() << "plugin corpus not built (build the test_plugin_corpus target)";
    }
  }

  PluginRegistry registry_{nullptr};
};

TEST_F(PluginRegistryTest, BadPluginDoesNotStopOthers) {
  registry_.LoadAll({Config("wrong_magic", "corpus-wrong-magic", "a"), Config("good", "corpus-good", "b"),
                     Config("create_fails", "corpus-create-fails", "c"), Config("throws", "corpus-throws", "d")});

  std::vector<PluginState> states = registry_.States();
  ASSERT_EQ(states.size(), 4u);
  const PluginState* bad = StateOf(states, "corpus-wrong-magic");
  ASSERT_NE(bad, nullptr);
  EXPECT_FALSE(bad->loaded);
  EXPECT_TRUE(bad->version.empty());
  EXPECT_NE(bad->error.find("incompatible magic"), std::string::npos) << bad->error;
  const PluginState* create_fails = StateOf(states, "corpus-create-fails");
  ASSERT_NE(create_fails, nullptr);
  EXPECT_FALSE(create_fails->loaded);
  EXPECT_NE(create_fails->error.find("create failed"), std::string::npos) << create_fails->error;

  const PluginState* good = StateOf(states, "corpus-good");
  ASSERT_NE(good, nullptr);
  EXPECT_TRUE(good->loaded);
  EXPECT_EQ(good->version, "1.0.0");
  EXPECT_TRUE(good->error.empty());
  EXPECT_EQ(good->country, "XX");
  EXPECT_EQ(good->system, "b");
  EXPECT_TRUE(StateOf(states, "corpus-throws")->loaded);
}

TEST_F(PluginRegistryTest, FindsByNameAndByCountrySystem) {
  registry_.LoadAll({Config("good", "corpus-good", "b"), Config("wrong_magic", "corpus-wrong-magic", "a")});

  std::shared_ptr<const LoadedPlugin> by_service = registry_.FindFor("XX", "b");
  ASSERT_NE(by_service, nullptr);
  EXPECT_EQ(by_service->descriptor().name, "corpus-good");
  EXPECT_EQ(registry_.Find("corpus-good"), by_service);
  EXPECT_EQ(registry_.FindFor("XX", "a"), nullptr);
  EXPECT_EQ(registry_.FindFor("ES", "b"), nullptr);
  EXPECT_EQ(registry_.Find("corpus-wrong-magic"), nullptr);
  EXPECT_EQ(registry_.Find("nothing"), nullptr);
}

TEST_F(PluginRegistryTest, DuplicateEntryRejected) {
  registry_.LoadAll({Config("good", "corpus-good", "b"), Config("throws", "corpus-throws", "b")});

  std::vector<PluginState> states = registry_.States();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_TRUE(states[0].loaded);
  EXPECT_FALSE(states[1].loaded);
  EXPECT_NE(states[1].error.find("duplicate configuration"), std::string::npos) << states[1].error;
  EXPECT_EQ(registry_.FindFor("XX", "b")->descriptor().name, "corpus-good");
}

TEST_F(PluginRegistryTest, FailedReloadKeepsEarlierGeneration) {
  registry_.LoadAll({Config("good", "corpus-good", "b")});
  std::shared_ptr<const LoadedPlugin> first = registry_.Find("corpus-good");
  ASSERT_NE(first, nullptr);

  PluginConfig broken = Config("good", "corpus-good", "b");
  broken.path = std::string(FISCAL_PLUGIN_DIR) + "/corpus/does_not_exist.so";
  registry_.LoadAll({broken});

  EXPECT_EQ(registry_.Find("corpus-good"), first);
  std::vector<PluginState> states = registry_.States();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_TRUE(states[0].loaded);
  EXPECT_NE(states[0].error.find("still serving version 1.0.0"), std::string::npos) << states[0].error;
  EXPECT_NE(states[0].error.find("cannot open"), std::string::npos) << states[0].error;
}

TEST_F(PluginRegistryTest, PinnedGenerationOutlivesRemoval) {
  registry_.LoadAll({Config("good", "corpus-good", "b")});
  std::shared_ptr<const LoadedPlugin> pinned = registry_.Find("corpus-good");
  ASSERT_NE(pinned, nullptr);

  registry_.LoadAll({});

  EXPECT_EQ(registry_.Find("corpus-good"), nullptr);
  EXPECT_TRUE(registry_.States().empty());
  CallOutcome outcome = pinned->IssueRecord("{}", CallContext());
  EXPECT_TRUE(outcome.ok()) << outcome.error_message;
  EXPECT_EQ(outcome.result, R"({"fiscal_id":"ECHO-2","input_size":2})");
}

TEST_F(PluginRegistryTest, CallsContinueDuringReload) {
  registry_.LoadAll({Config("good", "corpus-good", "b")});
  std::atomic<int> failures{0};
  std::atomic<int> calls{0};

  std::vector<std::thread> callers;
  for (int thread = 0; thread < 4; ++thread) {
    callers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        std::shared_ptr<const LoadedPlugin> plugin = registry_.FindFor("XX", "b");
        if (plugin == nullptr || !plugin->IssueRecord("{}", CallContext()).ok()) ++failures;
        ++calls;
      }
    });
  }
  for (int reload = 0; reload < 20; ++reload) registry_.LoadAll({Config("good", "corpus-good", "b")});
  for (std::thread& caller : callers) caller.join();

  EXPECT_EQ(calls.load(), 800);
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace fiscal::plugins
