// fhsim as the exchange's GLIMPSE 5.0 server, over SoupBinTCP 3.00 on TCP:
// it follows the day as it is published (every message of every data packet
// sent, line faults aside) and serves, at the moment of each login, the book
// as it stands then: the last System Event, every Stock Directory, Stock
// Trading Action and Reg SHO message, one Add Order for each resting order
// (in order of reference, so time priority holds; its open shares), then End
// of Snapshot with the sequence of the first message not included
// (lib/glimpse/glimpse.h). Heartbeats every second; a client silent for 15 s
// is dropped. One client at a time, from its own thread. Faults, in order of
// login: the first `rejectFirst` logins are refused, the next `closeFirst`
// snapshots are cut off halfway (the connection closed), the next
// `stallFirst` stop halfway with the server silent until the client leaves.
// While a snapshot is being made the publisher waits (it takes the lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace fh::sim {

struct GlimpseOptions {
  std::string listen;  // "ADDRESS:PORT" (198.18.0.0/15 or 127.0.0.0/8); empty: no server
  std::string username = "fh";
  std::string password = "fh";
  uint32_t rejectFirst = 0;
  uint32_t closeFirst = 0;
  uint32_t stallFirst = 0;
  uint32_t lingerMs = 1000;  // after the last packet, go on serving this long
};

struct GlimpseSummary {
  uint64_t logins = 0;                // login requests received
  uint64_t rejected = 0;              // refused: credentials, a session not ours, or the fault
  uint64_t served = 0;                // whole snapshots sent, End of Snapshot included
  uint64_t cutOff = 0;                // closed halfway (fault)
  uint64_t stalled = 0;               // stopped halfway (fault)
  uint64_t ordersSent = 0;            // Add Orders in the snapshots served whole
  uint64_t lastSnapshotSequence = 0;  // End of Snapshot's sequence in the last one served
  uint64_t dropped = 0;               // clients gone silent, or sending what is not SoupBinTCP
};

// The state of the day that a snapshot describes, message by message.
class DayState {
 public:
  void apply(const uint8_t* msg, uint16_t length);
  // Appends the snapshot's ITCH messages, each as a 2-byte length and the message.
  void snapshot(std::vector<uint8_t>& blocks, uint64_t& orders) const;

 private:
  struct Order {
    uint8_t add[40];  // the Add Order as it would be sent now (A: 36 bytes, F: 40)
    uint8_t length;
  };
  std::vector<uint8_t> systemEvent_;
  std::unordered_map<uint16_t, std::vector<uint8_t>> directory_, trading_, regSho_;
  std::unordered_map<uint64_t, Order> orders_;
};

class GlimpseServer {
 public:
  GlimpseServer(const GlimpseOptions& options, const std::string& session);
  ~GlimpseServer();
  GlimpseServer(const GlimpseServer&) = delete;
  GlimpseServer& operator=(const GlimpseServer&) = delete;

  // The message blocks (2-byte length, message) of a data packet just sent,
  // and the sequence of the first message after them.
  void record(std::span<const uint8_t> blocks, uint16_t count, uint64_t next);
  // Serves for lingerMs more, then stops.
  void finish();
  GlimpseSummary summary() const;
  std::string address() const { return options_.listen; }

 private:
  void serve();
  void session(int fd);

  GlimpseOptions options_;
  std::string session_;
  int listenFd_ = -1;
  mutable std::mutex mutex_;  // guards the state, the next sequence and the summary
  DayState state_;
  uint64_t next_ = 1;
  GlimpseSummary summary_;
  uint64_t loginsSeen_ = 0;  // for the faults, in order of login
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fh::sim
