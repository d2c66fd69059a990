// The daemon's GLIMPSE fetcher: a thread of its own that, when the snapshot
// stage asks (request(), from the worker, lock-free), logs in to the
// configured server, collects the snapshot, and hands it to the worker
// (ready() / take() / done(), polled once a millisecond at most). A failed
// fetch is logged, counted by outcome, and tried again after retry_ms for as
// long as the request stands; a request of a newer generation replaces an
// older one. The TCP session never blocks the worker.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "config.h"

namespace fh::daemon {

struct FetcherCounters {
  std::atomic<uint64_t> attempts{0};
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> closed{0};  // closed, or End of Session, before End of Snapshot
  std::atomic<uint64_t> silent{0};
  std::atomic<uint64_t> connectFailures{0};
  std::atomic<uint64_t> malformed{0};
  std::atomic<uint64_t> lastFetchMs{0};  // duration of the last complete fetch
};

class SnapshotFetcher {
 public:
  SnapshotFetcher(const Feed& feed);
  ~SnapshotFetcher();
  SnapshotFetcher(const SnapshotFetcher&) = delete;
  SnapshotFetcher& operator=(const SnapshotFetcher&) = delete;

  // The worker: a snapshot is needed for this generation of the stage.
  void request(uint64_t generation) noexcept;
  // The worker: one has come; take() gives it until done(), told whether
  // the stage still waits for one (the snapshot was unusable).
  bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }
  struct Snapshot {
    uint64_t generation;
    uint64_t next;  // End of Snapshot's sequence
    std::span<const uint8_t> blocks;
  };
  Snapshot take() const noexcept { return {generation_, next_, blocks_}; }
  void done(bool stillWanted) noexcept;

  const FetcherCounters& counters() const noexcept { return counters_; }

 private:
  void run();

  const Feed& feed_;
  std::atomic<uint64_t> wanted_{0};  // generation + 1 of the standing request; 0: none
  std::atomic<bool> ready_{false};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  // Written by the fetcher thread while !ready_, read by the worker while ready_.
  uint64_t generation_ = 0, next_ = 0;
  std::vector<uint8_t> blocks_;
  FetcherCounters counters_;
  std::thread thread_;
};

}  // namespace fh::daemon
