// The shared-memory region's costs: what the writer pays per published tick
// and per book, against copying the same bytes into private memory (the
// peer), and the delay from publish to a busy-polling reader on another core
// seeing the tick, against a bare single-producer queue between the same two
// cores (the floor). Medians of several runs; percentiles of ~200k samples.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shm/clock.h"
#include "shm/consumer.h"
#include "shm/writer.h"

namespace {

using Clock = std::chrono::steady_clock;

uint64_t nowNs() { return fh::shm::clockNs(CLOCK_MONOTONIC); }

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double percentile(std::vector<uint64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return double(v[std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())))]);
}

template <class F>
double nsPerOp(uint64_t ops, F&& f) {
  const auto t0 = Clock::now();
  f();
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / double(ops);
}

fh::record::MboMsg tick(uint64_t i) {
  fh::record::MboMsg m{};
  m.hd = {sizeof m / 4, fh::record::RType::Mbo, 0, static_cast<uint32_t>(i & 1023), i};
  m.orderId = i;
  m.price = 1'000'000'000;
  m.size = 100;
  m.action = fh::record::Action::Add;
  m.side = fh::record::Side::Bid;
  return m;
}

struct alignas(64) Handoff {
  std::atomic<uint64_t> stamp{0};
};

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const unsigned cpus = std::thread::hardware_concurrency();
  const int writerCpu = 0, readerCpu = cpus > 1 ? 1 : 0;
  fh::shm::RegionConfig config;
  config.name = "fh-bench-" + std::to_string(::getpid());
  config.maxInstruments = 1024;
  config.depth = 10;
  config.ringBytes = (argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64) << 20;
  config.counters = {"bench"};
  pin(writerCpu);

  // --- writer cost -------------------------------------------------------
  constexpr uint64_t kOps = 4'000'000;
  std::vector<double> tPublish, tPeer, tBook, tBookPeer;
  {
    fh::shm::RegionWriter writer(config);
    std::vector<uint8_t> privateRing(config.ringBytes);
    fh::shm::Level levels[10];
    for (uint32_t k = 0; k < 10; ++k) levels[k] = {int64_t(1000 - k), 100 + k, 1, 0};
    std::vector<fh::shm::Level> privateBooks(size_t{config.maxInstruments} * 20 + 20);
    for (int r = 0; r < runs; ++r) {
      tPublish.push_back(nsPerOp(kOps, [&] {
        for (uint64_t i = 0; i < kOps; ++i) {
          const auto m = tick(i);
          writer.publish(&m, sizeof m);
        }
      }));
      tPeer.push_back(nsPerOp(kOps, [&] {  // the same bytes into private memory, no protocol
        uint64_t at = 0;
        for (uint64_t i = 0; i < kOps; ++i) {
          const auto m = tick(i);
          std::memcpy(&privateRing[at], &m, sizeof m);
          at = (at + 72) & (config.ringBytes - 1) & ~uint64_t{127};
        }
        asm volatile("" : : "r"(privateRing.data()) : "memory");
      }));
      fh::shm::BookFields f{};
      tBook.push_back(nsPerOp(kOps, [&] {
        for (uint64_t i = 0; i < kOps; ++i) {
          f.lastSequence = i;
          writer.publishBook(static_cast<uint16_t>(i & 1023), f, levels, 10, levels, 10);
        }
      }));
      tBookPeer.push_back(nsPerOp(kOps, [&] {
        for (uint64_t i = 0; i < kOps; ++i) {
          std::memcpy(&privateBooks[(i & 1023) * 20], levels, sizeof levels);
          std::memcpy(&privateBooks[(i & 1023) * 20 + 10], levels, sizeof levels);
        }
        asm volatile("" : : "r"(privateBooks.data()) : "memory");
      }));
    }
  }

  // --- publish-to-reader delay ------------------------------------------
  constexpr uint64_t kSamples = 200'000;
  std::vector<uint64_t> shmDelay, floorDelay;
  {
    fh::shm::RegionWriter writer(config);
    std::atomic<bool> ready{false}, done{false};
    std::thread reader([&] {
      pin(readerCpu);
      fh::shm::Consumer::Options o;
      fh::shm::Consumer c(config.name, o);
      shmDelay.reserve(kSamples);
      ready = true;
      while (!done.load(std::memory_order_relaxed))
        c.poll([&](const fh::shm::Tick& t) {
          const uint64_t seen = nowNs();
          shmDelay.push_back(seen - t.mbo()->tsRecv);
        });
    });
    while (!ready) std::this_thread::yield();
    for (uint64_t i = 0; i < kSamples; ++i) {
      auto m = tick(i);
      const uint64_t due = nowNs() + 2'000;  // one tick every 2 µs
      while (nowNs() < due) {
      }
      m.tsRecv = nowNs();
      writer.publish(&m, sizeof m);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    done = true;
    reader.join();
  }
  {
    // The floor: a bare single-producer queue of stamps between the same two
    // cores. Like the ring, it keeps every sample, so a reader that was
    // descheduled sees the queued ticks late, as a real consumer would.
    constexpr uint64_t kSlots = 1 << 16;
    auto stamps = std::make_unique<std::atomic<uint64_t>[]>(kSlots);
    auto h = std::make_unique<Handoff>();  // stamp: ticks published
    std::atomic<bool> done{false};
    floorDelay.reserve(kSamples);
    std::thread reader([&] {
      pin(readerCpu);
      uint64_t next = 0;
      while (!done.load(std::memory_order_relaxed)) {
        const uint64_t published = h->stamp.load(std::memory_order_acquire);
        for (; next < published; ++next)
          floorDelay.push_back(nowNs() - stamps[next % kSlots].load(std::memory_order_relaxed));
      }
    });
    for (uint64_t i = 0; i < kSamples; ++i) {
      const uint64_t due = nowNs() + 2'000;
      while (nowNs() < due) {
      }
      stamps[i % kSlots].store(nowNs(), std::memory_order_relaxed);
      h->stamp.store(i + 1, std::memory_order_release);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    done = true;
    reader.join();
  }
  fh::shm::removeRegionFiles(config.directory, config.name);  // the name is this process's own

  const double pub = median(tPublish), peer = median(tPeer), book = median(tBook), bookPeer = median(tBookPeer);
  std::printf("machine         %u cpus; writer on cpu %d, reader on cpu %d; %d runs (medians)\n", cpus, writerCpu,
              readerCpu, runs);
  std::printf("%-44s %10s %10s\n", "writer cost", "ns/op", "vs peer");
  std::printf("%-44s %10.2f %10.2f\n", "publish one MBO tick to the ring", pub, pub / peer);
  std::printf("%-44s %10.2f %10.2f\n", "  peer: copy it into private memory", peer, 1.0);
  std::printf("%-44s %10.2f %10.2f\n", "publish one book (10+10 levels, seqlock)", book, book / bookPeer);
  std::printf("%-44s %10.2f %10.2f\n", "  peer: copy its levels into private memory", bookPeer, 1.0);
  const size_t shmCount = shmDelay.size(), floorCount = floorDelay.size();
  const double s50 = percentile(shmDelay, 50), s99 = percentile(shmDelay, 99), s999 = percentile(shmDelay, 99.9);
  const double f50 = percentile(floorDelay, 50), f99 = percentile(floorDelay, 99), f999 = percentile(floorDelay, 99.9);
  std::printf("%-44s %8s %8s %8s %8s\n", "publish -> reader sees it (ns)", "p50", "p99", "p99.9", "samples");
  std::printf("%-44s %8.0f %8.0f %8.0f %8zu\n", "tick ring, busy-polling consumer", s50, s99, s999, shmCount);
  std::printf("%-44s %8.0f %8.0f %8.0f %8zu\n", "  floor: a bare SPSC queue of stamps", f50, f99, f999, floorCount);
  std::printf("%-44s %8.2f %8.2f %8.2f\n", "  ring / floor", s50 / f50, s99 / f99, s999 / f999);
  std::printf(
      "{\"publish_ns\":%.2f,\"publish_vs_copy\":%.2f,\"book_ns\":%.2f,\"book_vs_copy\":%.2f,"
      "\"delay_p50_ns\":%.0f,\"delay_p99_ns\":%.0f,\"delay_p999_ns\":%.0f,\"floor_p50_ns\":%.0f,"
      "\"floor_p99_ns\":%.0f,\"delay_vs_floor_p50\":%.2f}\n",
      pub, pub / peer, book, book / bookPeer, s50, s99, s999, f50, f99, s50 / f50);
  return 0;
}
