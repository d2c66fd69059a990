// fhctl glimpse: fetches one GLIMPSE 5.0 snapshot over SoupBinTCP and writes
// its messages as a BinaryFILE (fhctl book --from and fhctl decode read it),
// then says where the multicast takes over (End of Snapshot's sequence).
#include <cstdio>
#include <fstream>
#include <vector>

#include "commands.h"
#include "glimpse/client.h"
#include "util/endpoint.h"

namespace fh::ctl {

int runGlimpse(const GlimpseOptions& options) {
  glimpse::ClientConfig config;
  const auto server = parseEndpoint(options.server);
  if (!server) {
    std::fprintf(stderr, "fhctl glimpse: --server %s: not ADDRESS:PORT\n", options.server.c_str());
    return 2;
  }
  config.server = *server;
  config.username = options.username;
  config.password = options.password;
  config.session = options.session;
  config.silenceTimeoutMs = options.timeoutMs;
  std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::fprintf(stderr, "fhctl glimpse: cannot write %s\n", options.out.c_str());
    return 1;
  }
  uint64_t orders = 0;
  const glimpse::SnapshotResult r = glimpse::fetchSnapshot(config, [&](const uint8_t* msg, uint16_t length) {
    const char prefix[2] = {static_cast<char>(length >> 8), static_cast<char>(length)};
    out.write(prefix, 2);
    out.write(reinterpret_cast<const char*>(msg), length);
    orders += length > 0 && (msg[0] == 'A' || msg[0] == 'F');
  });
  out.close();
  if (r.outcome != glimpse::Outcome::Complete) {
    std::fprintf(stderr, "fhctl glimpse: %s; %llu messages written to %s\n", r.error.c_str(),
                 static_cast<unsigned long long>(r.messages), options.out.c_str());
    return 1;
  }
  if (!out) {
    std::fprintf(stderr, "fhctl glimpse: writing %s failed\n", options.out.c_str());
    return 1;
  }
  std::printf("snapshot of session %s: %llu messages (%llu orders) in %s; the multicast takes over at sequence %llu\n",
              r.session.c_str(), static_cast<unsigned long long>(r.messages), static_cast<unsigned long long>(orders),
              options.out.c_str(), static_cast<unsigned long long>(r.nextSequence));
  return 0;
}

}  // namespace fh::ctl
