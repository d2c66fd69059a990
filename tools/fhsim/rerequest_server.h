// fhsim as the exchange's MoldUDP64 re-request server: it keeps every
// message it has published (as sent, line faults aside) and answers request
// packets (session, first sequence, count) with a downstream packet sent to
// the requester alone, from its own thread, while publishing goes on. Faults
// on request: a cap on messages per reply, a rate limit, stopping after N
// answers, forgetting what came before sequence N. Everything it did is
// counted for the summary.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace fh::sim {

struct RerequestOptions {
  std::string listen;                 // "ADDRESS:PORT" (198.18.0.0/15 or 127.0.0.0/8); empty: no server
  uint32_t maxMessages = 0xFFFE;      // per reply; the MTU caps it as well
  uint32_t rate = 0;                  // replies per second at most; 0: no limit
  std::optional<uint64_t> stopAfter;  // answer this many requests, then none
  uint64_t forgetBefore = 0;          // requests from before this sequence go unanswered
  uint32_t lingerMs = 1000;           // after the last packet, go on answering this long
};

struct RerequestSummary {
  uint64_t requests = 0;  // well-formed requests of our session
  uint64_t answered = 0;  // replies sent
  uint64_t messagesResent = 0;
  uint64_t wrongSession = 0;
  uint64_t malformed = 0;  // not a 20-byte request, or a count of 0 or 0xFFFF
  uint64_t forgotten = 0;  // asked for messages before forgetBefore
  uint64_t stopped = 0;    // after stopAfter answers
  uint64_t rateLimited = 0;
  uint64_t beyondEnd = 0;  // asked for messages not yet published
};

class RerequestServer {
 public:
  // payloadBytes: the largest UDP payload a reply may have (MTU - 28).
  RerequestServer(const RerequestOptions& options, const std::string& session, uint64_t firstSequence,
                  uint32_t payloadBytes);
  ~RerequestServer();
  RerequestServer(const RerequestServer&) = delete;
  RerequestServer& operator=(const RerequestServer&) = delete;

  // The message blocks (2-byte length, message) of the next data packet sent.
  void record(std::span<const uint8_t> blocks, uint16_t count);
  // Answers for lingerMs more, then stops.
  void finish();
  RerequestSummary summary() const;
  std::string address() const { return options_.listen; }

 private:
  void serve();
  void answer(const uint8_t* request, size_t length, const void* from, unsigned fromLength);

  RerequestOptions options_;
  char session_[10];
  uint64_t firstSequence_;
  uint32_t payloadBytes_;
  int fd_ = -1;
  mutable std::mutex mutex_;       // guards the history and the summary
  std::vector<uint8_t> blocks_;    // every message block published, in order
  std::vector<uint64_t> offsets_;  // of message firstSequence_ + i in blocks_
  RerequestSummary summary_;
  double tokens_ = 0;
  uint64_t lastRefillNs_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fh::sim
