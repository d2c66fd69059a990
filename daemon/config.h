// fhd's configuration: the TOML file (config/fhd.toml documents every key),
// parsed and checked whole before anything starts. Every error names the key
// and the value. Control plane.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "book/order_book.h"
#include "feed/sequencer.h"
#include "feed/snapshot_recovery.h"
#include "shm/writer.h"
#include "util/endpoint.h"
#include "util/memory.h"

namespace fh::daemon {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where snapshots come from: a GLIMPSE 5.0 server over SoupBinTCP.
struct SnapshotSource {
  Endpoint server;
  std::string username = "fh", password = "fh", session;  // an empty session: the current one
  uint32_t retryMs = 1000;                                // after a failed fetch, wait this long before the next
  uint32_t timeoutMs = 15000;                             // the server silent this long: the fetch failed
};

struct Line {
  uint32_t group = 0;  // IPv4, host byte order
  uint16_t port = 0;
  std::optional<uint32_t> source;  // only datagrams from this address (source-specific)
};

using fh::Endpoint;  // a re-request server (util/endpoint.h)

enum class Source { Xdp, Udp, File };
enum class Idle { Spin, SpinYield, Poll };
enum class XdpModeChoice { Auto, Native, Generic };

struct Feed {
  std::string name;
  Source source = Source::Udp;
  std::string interface;         // xdp, udp
  std::vector<uint32_t> queues;  // xdp: the interface's rx queues to read
  XdpModeChoice xdpMode = XdpModeChoice::Auto;
  bool zeroCopy = true;
  int cpu = -1;  // worker pinned to this CPU; -1: not pinned
  Idle idle = Idle::SpinYield;
  bool busyPoll = true;
  uint32_t busyPollUs = 20;
  uint32_t busyPollBudget = 64;
  uint32_t batch = 64;
  Line lineA;
  std::optional<Line> lineB;
  feed::SequencerConfig sequencer;         // sequencer.retransmission.servers: the size of rerequestServers
  std::vector<Endpoint> rerequestServers;  // MoldUDP64 re-request servers, in order of preference
  SnapshotSource snapshot;                 // with snapshotStage.enabled: the GLIMPSE server
  feed::SnapshotConfig snapshotStage;
  uint16_t rerequestPort = 0;  // local port of the request socket; 0: any
  std::string replay;          // file
  bool replayLines = false;    // file: a capture of lineA (and lineB), sequenced as live
  double rate = 0;             // file: messages/s, 0 = full speed
  std::string tradingDate;     // YYYY-MM-DD; empty: today in New York
};

// Where the book stores and the UMEM live ([memory]); fhd resolves the node
// at start (resolveMemory in fhd/main.cc), when the host can be asked.
enum class NodeChoice { Nic, Cpu, Any, Number };
struct MemoryConfig {
  NodeChoice place = NodeChoice::Nic;
  int node = -1;  // NodeChoice::Number
  HugePages pages = HugePages::Transparent;
};
// [memory]'s words as the configuration file spells them; fhd --replay's
// --numa-node (which also takes a node number) and --huge-pages take the same.
const std::vector<std::pair<std::string, NodeChoice>>& numaNodeChoices();
const std::vector<std::pair<std::string, HugePages>>& hugePagesChoices();
template <class E>
std::optional<E> named(const std::vector<std::pair<std::string, E>>& choices, const std::string& word) {
  for (const auto& [name, value] : choices)
    if (name == word) return value;
  return std::nullopt;
}

struct Config {
  std::string instance = "fh";
  std::string logLevel = "info";
  int housekeepingCpu = -1;  // every thread but the worker pinned here; -1: any CPU but the worker's
  MemoryConfig memory;
  shm::RegionConfig region;  // name, group, depth, ring (counters filled by the daemon)
  book::BookConfig book;
  std::vector<Feed> feeds;  // exactly one in this version
};

Config parseConfig(const std::string& text, const std::string& origin);
Config loadConfig(const std::string& path);

// "239.1.1.1" -> host-order address; nullopt if not dotted IPv4.
std::optional<uint32_t> parseIpv4(const std::string& text);
std::string formatIpv4(uint32_t address);
// fhd --replay FILE --line-a GROUP:PORT [--line-b GROUP:PORT]: the capture's lines.
void setReplayLines(Feed& f, const std::string& lineA, const std::string& lineB);

}  // namespace fh::daemon
