// fhsim: the simulator side of the tests and benchmarks. `generate` writes a
// synthetic ITCH 5.0 trading day as a BinaryFILE; `publish` sends such a file,
// a capture or a synthetic day as MoldUDP64 on multicast lines A and B.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "generator.h"
#include "publish.h"

namespace {

// CLI11 would otherwise read -1 into an unsigned option as 2^64 - 1.
const CLI::Validator kWholeNumber(
    [](std::string& value) -> std::string {
      if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos) return {};
      return "not a whole number: " + value;
    },
    "");

// FIRST:COUNT, data packets numbered from 1.
void addRange(CLI::App* app, const std::string& name, fh::sim::PacketRange& range, const std::string& help) {
  app->add_option_function<std::string>(
         name,
         [name, &range](const std::string& value) {
           const size_t colon = value.find(':');
           const auto whole = [](const std::string& t) {
             return !t.empty() && t.size() < 19 && t.find_first_not_of("0123456789") == std::string::npos;
           };
           if (colon == std::string::npos || !whole(value.substr(0, colon)) || !whole(value.substr(colon + 1)) ||
               std::stoull(value.substr(0, colon)) == 0)
             throw CLI::ValidationError(name, "'" + value + "' is not FIRST:COUNT (data packets, from 1)");
           range.first = std::stoull(value.substr(0, colon));
           range.count = std::stoull(value.substr(colon + 1));
         },
         help)
      ->type_name("FIRST:COUNT");
}

int runGenerate(const fh::sim::GeneratorOptions& options, const std::string& out) {
  try {
    const auto start = std::chrono::steady_clock::now();
    const fh::sim::GeneratorSummary summary = fh::sim::generate(options, out);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    std::fprintf(stderr, "fhsim generate: wrote %s in %.1f s (seed %llu)\n%s", out.c_str(), elapsed.count(),
                 static_cast<unsigned long long>(options.seed), fh::sim::describe(summary).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhsim generate: %s\n", e.what());
    return 1;
  }
}

int runPublish(fh::sim::PublishOptions options) {
  options.glimpse.lingerMs = options.rerequest.lingerMs;  // one --linger-ms for both servers
  try {
    const fh::sim::PublishSummary summary = fh::sim::publish(options);
    std::fputs(fh::sim::describe(options, summary).c_str(), stderr);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhsim publish: %s\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fhsim: synthetic Nasdaq TotalView-ITCH 5.0 data"};
  app.require_subcommand(1);

  fh::sim::GeneratorOptions generate;
  std::string out;
  CLI::App* generateCmd =
      app.add_subcommand("generate", "Write a deterministic synthetic trading day as a Nasdaq BinaryFILE");
  generateCmd->add_option("--messages", generate.messages, "messages in the file, the day's frame included")
      ->check(kWholeNumber)
      ->check(CLI::Range(uint64_t{1}, uint64_t{UINT32_MAX}))
      ->capture_default_str();
  generateCmd->add_option("--symbols", generate.symbols, "instruments (stock locates 1..N)")
      ->check(kWholeNumber)
      ->check(CLI::Range(uint32_t{1}, uint32_t{65'000}))
      ->capture_default_str();
  generateCmd->add_option("--seed", generate.seed, "the same seed gives the same file")
      ->check(kWholeNumber)
      ->capture_default_str();
  generateCmd->add_option("--out", out, "file to write, - for standard output")->required();

  fh::sim::PublishOptions publish;
  fh::sim::LineAddress lineB;
  uint64_t generateMessages = 0;
  fh::sim::GeneratorOptions publishDay;
  CLI::App* publishCmd = app.add_subcommand(
      "publish", "Send ITCH 5.0 as MoldUDP64 downstream packets to multicast line A (and B), or to a pcap");
  CLI::Option* fileOpt =
      publishCmd->add_option("--file", publish.file, "input: a Nasdaq BinaryFILE, or a pcap/pcapng of MoldUDP64");
  CLI::Option* generateOpt =
      publishCmd->add_option("--generate", generateMessages, "input: a synthetic day of N messages, made in memory")
          ->check(kWholeNumber)
          ->check(CLI::Range(uint64_t{1}, uint64_t{UINT32_MAX}))
          ->excludes(fileOpt);
  publishCmd->add_option("--port", publish.filePort, "only the capture's UDP datagrams to this destination port")
      ->needs(fileOpt);
  publishCmd->add_option("--symbols", publishDay.symbols, "instruments of the synthetic day")
      ->check(kWholeNumber)
      ->check(CLI::Range(uint32_t{1}, uint32_t{65'000}))
      ->capture_default_str()
      ->needs(generateOpt);
  publishCmd->add_option("--seed", publishDay.seed, "seed of the synthetic day")
      ->check(kWholeNumber)
      ->capture_default_str()
      ->needs(generateOpt);
  publishCmd->add_option("--session", publish.session, "MoldUDP64 session, up to 10 characters")->capture_default_str();
  publishCmd->add_option("--first-seq", publish.firstSequence, "sequence number of the first message")
      ->check(kWholeNumber)
      ->capture_default_str();
  publishCmd->add_option("--mtu", publish.mtu, "IP MTU: a packet's payload is at most MTU - 28 bytes")
      ->check(kWholeNumber)
      ->capture_default_str();
  publishCmd
      ->add_option("--messages-per-packet", publish.messagesPerPacket, "at most N messages a packet, 0: as many as fit")
      ->check(kWholeNumber)
      ->capture_default_str();
  publishCmd->add_option("--heartbeats", publish.heartbeats, "heartbeat packets after the last message")
      ->check(kWholeNumber)
      ->capture_default_str();
  publishCmd
      ->add_option("--end-of-session", publish.endOfSessionRepeats, "End of Session packets on each line, at the end")
      ->check(kWholeNumber)
      ->capture_default_str();
  publishCmd->add_option("--group-a", publish.lineA.group, "line A's multicast group (239.0.0.0/8)")->required();
  publishCmd->add_option("--port-a", publish.lineA.port, "line A's UDP port")->check(kWholeNumber)->required();
  CLI::Option* groupB = publishCmd->add_option("--group-b", lineB.group, "line B's multicast group (239.0.0.0/8)");
  CLI::Option* portB = publishCmd->add_option("--port-b", lineB.port, "line B's UDP port")->check(kWholeNumber);
  groupB->needs(portB);
  portB->needs(groupB);
  publishCmd->add_option("--interface", publish.interface, "sending interface: name or IPv4 address");
  publishCmd->add_option("--source", publish.source, "bind to this source address (198.18.0.0/15)");
  publishCmd->add_option("--ttl", publish.ttl, "IP_MULTICAST_TTL")->check(kWholeNumber)->capture_default_str();
  publishCmd->add_flag("--loop", publish.loop, "IP_MULTICAST_LOOP on (local receivers see the packets)");
  publishCmd->add_option("--rate", publish.rate, "messages per second, 0: as fast as possible")
      ->check(kWholeNumber)
      ->capture_default_str();
  publishCmd->add_option("--b-delay-us", publish.bDelayUs, "line B's copy of each packet this much later")
      ->check(kWholeNumber);
  publishCmd->add_option("--drop-a", publish.dropA, "drop every Nth data packet on line A only")->check(kWholeNumber);
  publishCmd->add_option("--drop-b", publish.dropB, "drop every Nth data packet on line B only")->check(kWholeNumber);
  publishCmd->add_option("--drop-both", publish.dropBoth, "drop every Nth data packet on both lines (a real gap)")
      ->check(kWholeNumber);
  publishCmd->add_option("--reorder-a", publish.reorderA, "send every Nth pair of data packets swapped on line A")
      ->check(kWholeNumber);
  publishCmd->add_option("--fault-seed", publish.faultSeed, "seed of the random faults: the same seed, the same faults")
      ->check(kWholeNumber)
      ->capture_default_str();
  publishCmd->add_option("--loss-a", publish.lossA, "percent of data packets line A loses at random");
  publishCmd->add_option("--loss-b", publish.lossB, "percent of data packets line B loses at random");
  publishCmd->add_option("--duplicate-a", publish.duplicateA, "percent of data packets line A sends twice");
  publishCmd->add_option("--duplicate-b", publish.duplicateB, "percent of data packets line B sends twice");
  addRange(publishCmd, "--burst-loss", publish.burstBoth, "both lines lose data packets FIRST..FIRST+COUNT-1");
  addRange(publishCmd, "--silence-a", publish.silenceA,
           "line A sends nothing while packets FIRST..FIRST+COUNT-1 go out");
  addRange(publishCmd, "--silence-b", publish.silenceB,
           "line B sends nothing while packets FIRST..FIRST+COUNT-1 go out");
  fh::sim::RerequestOptions& rr = publish.rerequest;
  CLI::Option* listen = publishCmd->add_option(
      "--rerequest-listen", rr.listen,
      "serve MoldUDP64 re-requests on ADDRESS:PORT (198.18.0.0/15 or 127.0.0.0/8) from the published history");
  publishCmd->add_option("--rerequest-max-messages", rr.maxMessages, "messages per reply at most (the MTU caps it too)")
      ->check(CLI::Range(1u, 65534u))
      ->capture_default_str()
      ->needs(listen);
  publishCmd->add_option("--rerequest-rate", rr.rate, "replies per second at most, 0: no limit")
      ->check(kWholeNumber)
      ->capture_default_str()
      ->needs(listen);
  publishCmd->add_option("--rerequest-stop-after", rr.stopAfter, "fault: answer N requests, then no more")
      ->check(kWholeNumber)
      ->needs(listen);
  publishCmd
      ->add_option("--rerequest-forget-before", rr.forgetBefore,
                   "fault: requests for messages before sequence N go unanswered")
      ->check(kWholeNumber)
      ->needs(listen);
  publishCmd
      ->add_option("--linger-ms", rr.lingerMs,
                   "after the last packet, keep answering re-requests and GLIMPSE logins this long")
      ->check(kWholeNumber)
      ->capture_default_str();
  fh::sim::GlimpseOptions& gl = publish.glimpse;
  CLI::Option* glimpse = publishCmd->add_option(
      "--glimpse-listen", gl.listen,
      "serve GLIMPSE 5.0 snapshots of the day as published over SoupBinTCP on ADDRESS:PORT (198.18.0.0/15 or "
      "127.0.0.0/8)");
  publishCmd->add_option("--glimpse-user", gl.username, "the username a login must give")
      ->capture_default_str()
      ->needs(glimpse);
  publishCmd->add_option("--glimpse-password", gl.password, "the password a login must give")
      ->capture_default_str()
      ->needs(glimpse);
  publishCmd->add_option("--glimpse-reject-first", gl.rejectFirst, "fault: refuse the first N logins")
      ->check(kWholeNumber)
      ->needs(glimpse);
  publishCmd->add_option("--glimpse-close-first", gl.closeFirst, "fault: then close the next N snapshots halfway")
      ->check(kWholeNumber)
      ->needs(glimpse);
  publishCmd
      ->add_option("--glimpse-stall-first", gl.stallFirst,
                   "fault: then stop the next N snapshots halfway, silent until the client leaves")
      ->check(kWholeNumber)
      ->needs(glimpse);
  publishCmd->add_flag("--stamp", publish.stamp,
                       "rewrite each message's timestamp with its send time (New York time of day): for benchmarks");
  publishCmd->add_option("--dry-run-pcap", publish.dryRunPcap,
                         "write line A's packets (Ethernet/IPv4/UDP) to this pcap instead of sending");
  publishCmd->add_flag("--dry-run-both-lines", publish.dryRunBothLines,
                       "the dry run's pcap holds line B's packets too, as they would be sent: a capture of both lines");

  CLI11_PARSE(app, argc, argv);
  if (publishCmd->parsed()) {
    if (generateOpt->count() > 0) {
      publishDay.messages = generateMessages;
      publish.generate = publishDay;
    }
    if (groupB->count() > 0) publish.lineB = lineB;
    return runPublish(publish);
  }
  if (generateCmd->parsed()) {
    if (generate.messages < fh::sim::minimumMessages(generate.symbols)) {
      std::fprintf(stderr, "fhsim generate: --messages %llu is too few for --symbols %u: a day needs at least %llu\n",
                   static_cast<unsigned long long>(generate.messages), generate.symbols,
                   static_cast<unsigned long long>(fh::sim::minimumMessages(generate.symbols)));
      return 1;
    }
    return runGenerate(generate, out);
  }
  return 1;
}
