#include "snapshot_fetcher.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "glimpse/client.h"
#include "sources.h"

namespace fh::daemon {

SnapshotFetcher::SnapshotFetcher(const Feed& feed) : feed_(feed) {
  thread_ = std::thread([this] { run(); });
}

SnapshotFetcher::~SnapshotFetcher() {
  stop_ = true;
  wake_.notify_all();
  thread_.join();
}

void SnapshotFetcher::request(uint64_t generation) noexcept {
  wanted_.store(generation + 1, std::memory_order_release);
  wake_.notify_one();  // never blocks: notify takes no lock
}

void SnapshotFetcher::done(bool stillWanted) noexcept {
  if (!stillWanted) wanted_.store(0, std::memory_order_release);
  ready_.store(false, std::memory_order_release);
  wake_.notify_one();
}

void SnapshotFetcher::run() {
  const SnapshotSource& s = feed_.snapshot;
  const std::string server = formatIpv4(s.server.address) + ":" + std::to_string(s.server.port);
  glimpse::ClientConfig config;
  config.server = s.server;
  config.username = s.username;
  config.password = s.password;
  config.session = s.session;
  config.silenceTimeoutMs = int(s.timeoutMs);
  while (!stop_) {
    uint64_t wanted = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(100), [&] {
        return stop_ || (!ready_.load(std::memory_order_acquire) && wanted_.load(std::memory_order_acquire) != 0);
      });
      if (stop_) return;
      if (ready_.load(std::memory_order_acquire)) continue;
      wanted = wanted_.load(std::memory_order_acquire);
      if (wanted == 0) continue;
    }
    ++counters_.attempts;
    spdlog::info("{}: fetching a snapshot from GLIMPSE server {}", feed_.name, server);
    const auto start = std::chrono::steady_clock::now();
    blocks_.clear();
    uint64_t orders = 0;
    const glimpse::SnapshotResult r = glimpse::fetchSnapshot(
        config,
        [&](const uint8_t* msg, uint16_t length) {
          blocks_.push_back(uint8_t(length >> 8));
          blocks_.push_back(uint8_t(length));
          blocks_.insert(blocks_.end(), msg, msg + length);
          orders += length > 0 && (msg[0] == 'A' || msg[0] == 'F');
        },
        &stop_);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (r.outcome == glimpse::Outcome::Complete) {
      ++counters_.completed;
      counters_.lastFetchMs = uint64_t(ms.count());
      spdlog::info(
          "{}: snapshot of session {} fetched in {} ms: {} messages, {} orders; the feed takes over at "
          "sequence {}",
          feed_.name, r.session, ms.count(), r.messages, orders, r.nextSequence);
      generation_ = wanted - 1;
      next_ = r.nextSequence;
      ready_.store(true, std::memory_order_release);
      continue;
    }
    if (r.outcome == glimpse::Outcome::Stopped) return;
    switch (r.outcome) {
      case glimpse::Outcome::Rejected:
        ++counters_.rejected;
        break;
      case glimpse::Outcome::Closed:
        ++counters_.closed;
        break;
      case glimpse::Outcome::Silent:
        ++counters_.silent;
        break;
      case glimpse::Outcome::ConnectFailed:
        ++counters_.connectFailures;
        break;
      default:
        ++counters_.malformed;
        break;
    }
    spdlog::warn("{}: snapshot failed: {}; the books stay marked; next try in {} ms", feed_.name, r.error, s.retryMs);
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(s.retryMs), [&] { return stop_.load(); });
  }
}

}  // namespace fh::daemon
