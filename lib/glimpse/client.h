// A GLIMPSE 5.0 client over SoupBinTCP 3.00: connects, logs in for sequence
// 1 of the current session, hands every snapshot message to the caller, and
// stops at End of Snapshot (then logs out), at a rejected login, a closed
// connection, a server silent for the timeout, or a stream that is not
// SoupBinTCP. It sends its heartbeat every second while logged in. Blocking:
// for a thread of its own (fhd) or a command-line tool (fhctl glimpse); it
// returns within about the timeout after the last byte came.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "util/endpoint.h"

namespace fh::glimpse {

struct ClientConfig {
  Endpoint server;
  std::string username = "fh";
  std::string password = "fh";
  std::string session;  // empty: the current one
  int connectTimeoutMs = 3000;
  int silenceTimeoutMs = 15000;  // SoupBinTCP's: no data nor heartbeat this long, the server is gone
};

enum class Outcome {
  Complete,       // End of Snapshot came: nextSequence is set
  Rejected,       // Login Rejected: rejectReason says why
  Closed,         // the server closed the connection (or ended the session) before End of Snapshot
  Silent,         // nothing from the server for silenceTimeoutMs
  Malformed,      // not SoupBinTCP, or a malformed Login Accepted or End of Snapshot
  ConnectFailed,  // no connection within connectTimeoutMs
  Stopped,        // the caller's stop flag
};
const char* name(Outcome outcome) noexcept;

struct SnapshotResult {
  Outcome outcome = Outcome::ConnectFailed;
  uint64_t nextSequence = 0;  // End of Snapshot's: the first multicast message to apply
  uint64_t messages = 0;      // snapshot messages handed over (End of Snapshot not counted)
  std::string session;        // from Login Accepted
  char rejectReason = 0;
  std::string error;  // what happened, for a log line
};

// onMessage(const uint8_t* msg, uint16_t length) for each snapshot message,
// in order; `stop`, when set, ends the fetch within about 100 ms.
SnapshotResult fetchSnapshot(const ClientConfig& config, const std::function<void(const uint8_t*, uint16_t)>& onMessage,
                             const std::atomic<bool>* stop = nullptr);

}  // namespace fh::glimpse
