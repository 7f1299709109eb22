// aeat-emulator: development stand-in for AEAT's VERI*FACTU SOAP endpoint. See README.md.

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "aeat_emulator/emulator.h"
#include "aeat_emulator/json_log.h"
#include "aeat_emulator/server.h"
#include "aeat_emulator/xml_support.h"

namespace {

constexpr char kUsage[] =
    "Usage: aeat-emulator --cert FILE --key FILE --ca FILE --xsd-dir DIR [options]\n"
    "\n"
    "Serves AEAT's VERI*FACTU endpoint\n"
    "  POST /wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP\n"
    "over HTTPS with mandatory client certificates, plus a plain-HTTP control API on loopback.\n"
    "\n"
    "  --listen ADDR         numeric address for the HTTPS port (default 127.0.0.1)\n"
    "  --port N              HTTPS port (default 8443; 0 picks a free port)\n"
    "  --cert FILE           server certificate chain, PEM\n"
    "  --key FILE            server private key, PEM\n"
    "  --ca FILE             CA certificates that client certificates must chain to, PEM\n"
    "  --xsd-dir DIR         directory with SuministroLR.xsd, RespuestaSuministro.xsd and catalog.xml\n"
    "  --control-port N      control API port on loopback (default 8444; 0 picks a free port;\n"
    "                        -1 disables it)\n"
    "  --wait-seconds N      TiempoEsperaEnvio returned in answers, in seconds (default 60)\n"
    "  --clock-margin-seconds N\n"
    "                        allowed FechaHoraHusoGenRegistro distance before code 2004\n"
    "                        (default 240)\n"
    "  --state-file FILE     JSON-lines file that keeps records across restarts (default: memory)\n"
    "  --max-connections N   concurrent connections, each served by one thread (default 64)\n"
    "  --help                print this text\n";

bool ParseInt(const char* text, int minimum, int maximum, int* value) {
  char* end = nullptr;
  const long parsed = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || parsed < minimum || parsed > maximum) return false;
  *value = static_cast<int>(parsed);
  return true;
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "aeat-emulator: %s\n\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aeat_emulator;

  ServerOptions server_options;
  EmulatorConfig config;
  std::string xsd_dir;

  for (int i = 1; i < argc; ++i) {
    const std::string_view option = argv[i];
    if (option == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) return UsageError("missing value for " + std::string(option));
    const char* value = argv[++i];

    bool valid = true;
    if (option == "--listen") {
      server_options.listen_address = value;
    } else if (option == "--port") {
      valid = ParseInt(value, 0, 65535, &server_options.port);
    } else if (option == "--cert") {
      server_options.cert_file = value;
    } else if (option == "--key") {
      server_options.key_file = value;
    } else if (option == "--ca") {
      server_options.ca_file = value;
    } else if (option == "--xsd-dir") {
      xsd_dir = value;
    } else if (option == "--control-port") {
      valid = ParseInt(value, -1, 65535, &server_options.control_port);
    } else if (option == "--wait-seconds") {
      // TiempoEsperaEnvio is at most 4 digits in RespuestaSuministro.xsd.
      valid = ParseInt(value, 0, 9999, &config.wait_seconds);
    } else if (option == "--clock-margin-seconds") {
      valid = ParseInt(value, 0, 86400 * 365, &config.clock_margin_seconds);
    } else if (option == "--state-file") {
      config.state_file = value;
    } else if (option == "--max-connections") {
      valid = ParseInt(value, 1, 4096, &server_options.max_connections);
    } else {
      return UsageError("unknown option " + std::string(option));
    }
    if (!valid) return UsageError("invalid value '" + std::string(value) + "' for " +
                                  std::string(option));
  }
  if (server_options.cert_file.empty() || server_options.key_file.empty() ||
      server_options.ca_file.empty() || xsd_dir.empty()) {
    return UsageError("--cert, --key, --ca and --xsd-dir are required");
  }

  // Block SIGINT and SIGTERM before any thread starts, so that every thread inherits the mask
  // and only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string error;
  std::shared_ptr<const SchemaSet> schemas = SchemaSet::Load(xsd_dir, &error);
  if (schemas == nullptr) {
    LogJson("ERROR", "failed to load the AEAT schemas", {{"error", error}});
    return 1;
  }

  Emulator emulator(config, schemas);
  if (!emulator.Open(&error)) {
    LogJson("ERROR", "failed to load the state file", {{"error", error}});
    return 1;
  }

  Server server(server_options, emulator);
  if (!server.Start(&error)) {
    LogJson("ERROR", "failed to start the server", {{"error", error}});
    return 1;
  }
  LogJson("INFO", "aeat-emulator started",
          {{"listen", server_options.listen_address},
           {"port", static_cast<int64_t>(server.port())},
           {"control_port", static_cast<int64_t>(server.control_port())},
           {"wait_seconds", static_cast<int64_t>(config.wait_seconds)},
           {"state_file", config.state_file}});

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LogJson("INFO", "stop signal received, shutting down",
          {{"signal", static_cast<int64_t>(signal_number)}});
  server.Stop();
  LogJson("INFO", "aeat-emulator stopped");
  return 0;
}
