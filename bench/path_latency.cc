// The delay of the feed's messages as fhd and as a consumer process saw them.
// For every message (its MBO record flagged LAST) fhd's own delay is ts_recv -
// ts_event, which with `fhsim publish --stamp` is the time from the sender's
// clock read just before sendto() to fhd's receive of the packet.
//   path_latency NAME [DIRECTORY]
//       reads the region from its oldest record, after the run;
//   path_latency NAME DIRECTORY --follow IDLE_MS [--cpu N]
//       a consumer process spinning on the tick ring while the feed runs: it
//       also takes the consumer's delay (its clock when it read the record -
//       ts_event), and stops IDLE_MS after the last record.
// Prints one JSON line: count, p50, p99, p99.9 and max in ns, the delays at
// every percent (cdf_ns; consumer_* with --follow), and records the consumer lost.
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "shm/clock.h"
#include "shm/consumer.h"

namespace {

int64_t realtimeNs() noexcept { return int64_t(fh::shm::realtimeNs()); }

struct Percentiles {
  std::vector<int64_t> v;
  std::string json(const char* prefix) {
    std::sort(v.begin(), v.end());
    const auto at = [&](double p) { return v[std::min(v.size() - 1, size_t(p / 100 * double(v.size())))]; };
    char out[256];
    std::snprintf(out, sizeof out, "\"%sp50_ns\":%lld,\"%sp99_ns\":%lld,\"%sp999_ns\":%lld,\"%smax_ns\":%lld", prefix,
                  (long long)at(50), prefix, (long long)at(99), prefix, (long long)at(99.9), prefix,
                  (long long)v.back());
    std::string json = out;
    json += ",\"" + std::string(prefix) + "cdf_ns\":[";  // at 0, 1, ..., 100 %
    for (int q = 0; q <= 100; ++q) {
      if (q > 0) json += ',';
      json += std::to_string(q == 100 ? v.back() : at(q));
    }
    return json + "]";
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: path_latency NAME [DIRECTORY [--follow IDLE_MS [--cpu N]]]\n");
    return 2;
  }
  fh::shm::Consumer::Options o;
  o.start = fh::shm::StartAt::Oldest;
  if (argc > 2) o.directory = argv[2];
  long idleMs = -1;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--follow") == 0) {
      idleMs = std::atol(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--cpu") == 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(std::atoi(argv[i + 1]), &set);
      if (::sched_setaffinity(0, sizeof set, &set) != 0) std::perror("path_latency: sched_setaffinity");
    }
  }
  const bool follow = idleMs >= 0;
  try {
    fh::shm::Consumer c(argv[1], o);
    Percentiles fhd, consumer;
    fhd.v.reserve(1 << 24);
    if (follow) consumer.v.reserve(1 << 24);
    uint64_t lost = 0;
    int64_t last = 0;
    for (;;) {
      const fh::shm::PollResult r = c.poll([&](const fh::shm::Tick& t) {
        const fh::record::MboMsg* m = t.mbo();
        if (m == nullptr || (m->flags & fh::record::flags::kLast) == 0) return;
        fhd.v.push_back(int64_t(m->tsRecv) - int64_t(m->hd.tsEvent));
        if (follow) consumer.v.push_back(realtimeNs() - int64_t(m->hd.tsEvent));
      });
      if (r.invalid) {
        std::fprintf(stderr, "path_latency: %s is not a valid region any more\n", c.path().c_str());
        return 1;
      }
      lost += r.lost;
      if (r.records > 0) {
        if (follow) last = realtimeNs();
        continue;
      }
      if (!follow) break;
      if (last != 0 && realtimeNs() - last > idleMs * 1'000'000) break;
    }
    if (fhd.v.empty()) {
      std::fprintf(stderr, "path_latency: no stamped records in %s\n", c.path().c_str());
      return 1;
    }
    std::printf("{\"messages\":%zu,%s%s%s,\"lost_records\":%llu}\n", fhd.v.size(), fhd.json("").c_str(),
                follow ? "," : "", follow ? consumer.json("consumer_").c_str() : "", (unsigned long long)lost);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "path_latency: %s\n", e.what());
    return 1;
  }
}
