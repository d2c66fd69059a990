// fhctl capture: the packets fhd's worker receives, from the region's tap
// (shm/tap.h), as pcapng: one interface per line (A, B, re-request replies,
// snapshot), nanosecond receive times. The tap keeps UDP payloads (and a
// snapshot's messages), so each packet is given IPv4 and UDP headers (TCP
// and SoupBinTCP framing for a snapshot) with the addresses of fhd's
// configuration, which the region carries; the file's comments say so.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "capture/capture.h"
#include "capture/pcapng_writer.h"
#include "commands.h"
#include "shm/consumer.h"
#include "shm/tap.h"

namespace fh::ctl {

namespace {

constexpr const char* kLineNames[shm::kTapLines] = {"a", "b", "retransmission", "snapshot"};
constexpr const char* kLineTitles[shm::kTapLines] = {"line A", "line B", "re-request replies", "snapshot"};

std::string ipv4Text(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string(a >> 16 & 255) + "." + std::to_string(a >> 8 & 255) + "." +
         std::to_string(a & 255);
}

std::string endpointText(uint32_t address, uint16_t port) {
  return (address != 0 ? ipv4Text(address) : std::string("?")) + ":" + (port != 0 ? std::to_string(port) : "?");
}

// A snapshot piece as the tap holds it (2-byte length, message; repeated)
// into SoupBinTCP Sequenced Data packets (2-byte length, 'S', message).
void soupFraming(std::span<const uint8_t> blocks, std::vector<uint8_t>& out) {
  out.clear();
  for (size_t at = 0; at + 2 <= blocks.size();) {
    const size_t n = size_t{blocks[at]} << 8 | blocks[at + 1];
    if (at + 2 + n > blocks.size()) break;
    out.push_back(static_cast<uint8_t>((n + 1) >> 8));
    out.push_back(static_cast<uint8_t>(n + 1));
    out.push_back('S');
    out.insert(out.end(), blocks.begin() + static_cast<ptrdiff_t>(at + 2),
               blocks.begin() + static_cast<ptrdiff_t>(at + 2 + n));
    at += 2 + n;
  }
}

uint64_t realtimeNs() { return shm::clockNs(CLOCK_REALTIME); }

}  // namespace

int runCapture(const CaptureOptions& options, const RegionOptions& region) {
  installStopHandlers();
  try {
    bool wanted[shm::kTapLines] = {};
    for (const std::string& l : options.lines) {
      const auto* at =
          std::find_if(std::begin(kLineNames), std::end(kLineNames), [&](const char* n) { return l == n; });
      if (at == std::end(kLineNames)) {
        std::fprintf(stderr, "fhctl capture: --line %s: not a line (a, b, retransmission or snapshot)\n", l.c_str());
        return 2;
      }
      wanted[at - std::begin(kLineNames)] = true;
    }
    if (options.lines.empty()) std::fill(std::begin(wanted), std::end(wanted), true);

    shm::Consumer::Options consumerOptions;
    consumerOptions.directory = region.directory;
    shm::Consumer consumer(region.name, consumerOptions);
    shm::TapReader tap(consumer);

    // The writer's housekeeping sees the lock within 100 ms.
    for (int i = 0; !tap.active(); ++i) {
      if (consumer.writerStatus() != shm::WriterStatus::Running) {
        std::fprintf(stderr, "fhctl capture: %s: no running writer\n", consumer.path().c_str());
        return 1;
      }
      if (i == 30) {
        std::fprintf(stderr,
                     "fhctl capture: %s: the writer did not switch its tap on within 3 s (a file replay has no "
                     "tap; an fhd older than layout 1.4 neither)\n",
                     consumer.path().c_str());
        return 1;
      }
      if (!sleepUnlessStopped(0.1)) return 1;
    }
    tap.start();
    const uint64_t refusedBefore = consumer.tapHeader()->refused.load(std::memory_order_relaxed);

    capture::PcapNgWriter out(options.out, "fhctl capture",
                              "Packets fhd's worker received, copied from the capture tap of region " +
                                  consumer.path() +
                                  ". The tap keeps UDP payloads: IPv4 and UDP (for the snapshot TCP and SoupBinTCP) "
                                  "headers are made from fhd's configuration, not read off the wire.");
    uint32_t interfaceOf[shm::kTapLines] = {};
    for (uint32_t l = 0; l < shm::kTapLines; ++l) {
      if (!wanted[l]) continue;
      const shm::TapEndpoints& e = tap.endpoints(static_cast<shm::TapLine>(l));
      const std::string description =
          std::string(kLineTitles[l]) +
          (l == static_cast<uint32_t>(shm::TapLine::Snapshot) ? " (GLIMPSE over SoupBinTCP)" : "") + ", " +
          endpointText(e.srcAddr, e.srcPort) + " -> " + endpointText(e.dstAddr, e.dstPort) +
          (e.protocol == 0 ? " (not configured)" : "");
      interfaceOf[l] = out.addInterface(static_cast<uint16_t>(capture::LinkType::RawIp),
                                        "fh:" + region.name + ":" + kLineNames[l], description);
    }

    const uint64_t startNs = realtimeNs();
    const uint64_t deadline = options.seconds ? startNs + static_cast<uint64_t>(*options.seconds * 1e9) : UINT64_MAX;
    uint64_t written = 0, byLine[shm::kTapLines] = {}, skipped = 0;
    uint16_t ipId[shm::kTapLines] = {};
    uint32_t tcpSeq = 1;
    std::vector<uint8_t> frame, soup;
    const char* why = "stopped";
    for (;;) {
      if (options.count && written >= *options.count) {
        why = "count reached";
        break;
      }
      if (out.failed()) break;  // finish() says why
      shm::TapReader::Packet p;
      if (!tap.next(p)) {
        if (stopRequested()) break;
        if (realtimeNs() >= deadline) {
          why = "time is up";
          break;
        }
        if (consumer.writerStatus() != shm::WriterStatus::Running) {
          why = "the writer stopped";
          break;
        }
        const timespec pause{0, 100'000};
        ::nanosleep(&pause, nullptr);
        continue;
      }
      const auto l = static_cast<uint32_t>(p.line);
      if (!wanted[l]) {
        ++skipped;
        continue;
      }
      const shm::TapEndpoints& e = tap.endpoints(p.line);
      if (p.line == shm::TapLine::Snapshot) {
        soupFraming(p.payload, soup);
        capture::ipv4Tcp(frame, e.srcAddr, e.dstAddr, e.srcPort, e.dstPort, ipId[l]++, tcpSeq, soup);
        tcpSeq += static_cast<uint32_t>(soup.size());
      } else {
        capture::ipv4Udp(frame, e.srcAddr, e.dstAddr, e.srcPort, e.dstPort, ipId[l]++, p.payload);
      }
      out.packet(interfaceOf[l], p.recvNs, frame);
      ++written;
      ++byLine[l];
    }
    const uint64_t endNs = realtimeNs();
    const uint64_t lost = tap.lost();
    const uint64_t refused = consumer.tapHeader()->refused.load(std::memory_order_relaxed) - refusedBefore;
    const std::string lostText =
        lost == 0 ? std::string()
                  : std::to_string(lost) + " packets (of any line) lost: the capture fell behind the tap";
    for (uint32_t l = 0; l < shm::kTapLines; ++l)
      if (wanted[l])
        out.statistics(interfaceOf[l], startNs, endNs, byLine[l], lost == 0 ? std::optional<uint64_t>(0) : std::nullopt,
                       lostText);
    out.finish();

    std::string lines;
    for (uint32_t l = 0; l < shm::kTapLines; ++l)
      if (wanted[l] && byLine[l] != 0)
        lines += std::string(lines.empty() ? "" : ", ") + kLineTitles[l] + " " + std::to_string(byLine[l]);
    std::fprintf(stderr, "fhctl capture: %s: %llu packets written to %s (%s); %llu lost by the tap", why,
                 static_cast<unsigned long long>(written), options.out == "-" ? "standard output" : options.out.c_str(),
                 lines.empty() ? "none" : lines.c_str(), static_cast<unsigned long long>(lost));
    if (lost != 0) std::fprintf(stderr, " (the capture fell behind: a larger shm.tap_mib, or a faster disk)");
    if (refused != 0)
      std::fprintf(stderr, "; %llu too large for the tap's ring, not kept", static_cast<unsigned long long>(refused));
    if (skipped != 0) std::fprintf(stderr, "; %llu of other lines left out", static_cast<unsigned long long>(skipped));
    std::fprintf(stderr, "\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhctl capture: %s\n", e.what());
    return 1;
  }
}

}  // namespace fh::ctl
