// The network path's delay as fhd saw it: reads a region from its oldest
// record and, for every message (its MBO record flagged LAST), takes ts_recv -
// ts_event, which with `fhsim publish --stamp` is the time from the sender's
// clock read just before sendto() to fhd's receive of the packet. Prints
// count, p50, p99, p99.9 and max in ns, and one JSON line.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "shm/consumer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: path_latency NAME [DIRECTORY]\n");
    return 2;
  }
  fh::shm::Consumer::Options o;
  o.start = fh::shm::StartAt::Oldest;
  if (argc > 2) o.directory = argv[2];
  try {
    fh::shm::Consumer c(argv[1], o);
    std::vector<int64_t> delays;
    uint64_t lost = 0;
    for (;;) {
      const fh::shm::PollResult r = c.poll([&](const fh::shm::Tick& t) {
        const fh::record::MboMsg* m = t.mbo();
        if (m != nullptr && (m->flags & fh::record::flags::kLast))
          delays.push_back(int64_t(m->tsRecv) - int64_t(m->hd.tsEvent));
      });
      lost += r.lost;
      if (r.records == 0) break;
    }
    if (delays.empty()) {
      std::fprintf(stderr, "path_latency: no stamped records in %s\n", c.path().c_str());
      return 1;
    }
    std::sort(delays.begin(), delays.end());
    const auto at = [&](double p) { return delays[std::min(delays.size() - 1, size_t(p / 100 * double(delays.size())))]; };
    std::printf("{\"messages\":%zu,\"p50_ns\":%lld,\"p99_ns\":%lld,\"p999_ns\":%lld,\"max_ns\":%lld,\"lost_records\":%llu}\n",
                delays.size(), (long long)at(50), (long long)at(99), (long long)at(99.9), (long long)delays.back(),
                (unsigned long long)lost);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "path_latency: %s\n", e.what());
    return 1;
  }
}
