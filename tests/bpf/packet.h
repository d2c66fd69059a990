// A small fluent builder of test frames (after katran's testing tools):
// Ethernet, optional VLAN tags, IPv4 or IPv6, UDP/TCP/IGMP, payload; the
// lengths and checksums come out right unless a test asks otherwise.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fh::test {

class Packet {
 public:
  Packet& vlan(uint16_t id, uint16_t tpid = 0x8100) {
    vlans_.push_back({tpid, id});
    return *this;
  }
  Packet& ipv4(const std::string& src, const std::string& dst) {
    family_ = 4;
    ::inet_pton(AF_INET, src.c_str(), &src4_);
    ::inet_pton(AF_INET, dst.c_str(), &dst4_);
    return *this;
  }
  Packet& ipv6() {
    family_ = 6;
    return *this;
  }
  Packet& arp() {
    family_ = 0;
    return *this;
  }
  Packet& ipOptions(uint8_t words) {
    options_ = words;
    return *this;
  }
  Packet& ihl(uint8_t value) {
    ihlOverride_ = value;
    return *this;
  }
  Packet& fragment(bool moreFragments, uint16_t offsetUnits) {
    frag_ = uint16_t((moreFragments ? 0x2000 : 0) | (offsetUnits & 0x1FFF));
    return *this;
  }
  Packet& dontFragment() {
    frag_ = 0x4000;
    return *this;
  }
  Packet& udp(uint16_t sport, uint16_t dport) {
    proto_ = 17;
    sport_ = sport;
    dport_ = dport;
    return *this;
  }
  Packet& udpLength(uint16_t value) {
    udpLenOverride_ = value;
    return *this;
  }
  Packet& tcp(uint16_t sport, uint16_t dport) {
    proto_ = 6;
    sport_ = sport;
    dport_ = dport;
    return *this;
  }
  Packet& igmp() {
    proto_ = 2;
    return *this;
  }
  Packet& payload(size_t bytes) {
    payload_.assign(bytes, 0);
    for (size_t i = 0; i < bytes; ++i) payload_[i] = uint8_t(i);
    return *this;
  }
  Packet& truncate(size_t bytes) {
    truncate_ = bytes;
    return *this;
  }

  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> f = {0x01, 0x00, 0x5e, 0x01, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    for (const auto& [tpid, id] : vlans_) {
      put16(f, tpid);
      put16(f, id);
    }
    if (family_ == 0) {  // ARP request
      put16(f, 0x0806);
      f.insert(f.end(), 28, 0);
    } else if (family_ == 6) {
      put16(f, 0x86DD);
      f.insert(f.end(), 40 + 8, 0);
      f[f.size() - 48 + 6] = 17;  // next header UDP
    } else {
      put16(f, 0x0800);
      const size_t ip = f.size();
      const size_t l4 = proto_ == 6 ? 20 : 8;
      const size_t ipLength = 20 + options_ * 4 + l4 + payload_.size();
      f.push_back(uint8_t(0x40 | (ihlOverride_ ? ihlOverride_ : 5 + options_)));
      f.push_back(0);
      put16(f, uint16_t(ipLength));
      put16(f, 0x1234);
      put16(f, frag_);
      f.push_back(1);  // TTL
      f.push_back(proto_);
      put16(f, 0);  // checksum, below
      f.insert(f.end(), reinterpret_cast<const uint8_t*>(&src4_), reinterpret_cast<const uint8_t*>(&src4_) + 4);
      f.insert(f.end(), reinterpret_cast<const uint8_t*>(&dst4_), reinterpret_cast<const uint8_t*>(&dst4_) + 4);
      f.insert(f.end(), options_ * 4, 1);  // NOP options
      uint32_t sum = 0;
      for (size_t i = ip; i < ip + 20 + options_ * 4; i += 2) sum += uint32_t(f[i] << 8 | f[i + 1]);
      while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
      f[ip + 10] = uint8_t(~sum >> 8);
      f[ip + 11] = uint8_t(~sum);
      if (proto_ == 2) {
        f.insert(f.end(), {0x16, 0, 0, 0});
        f.insert(f.end(), reinterpret_cast<const uint8_t*>(&dst4_), reinterpret_cast<const uint8_t*>(&dst4_) + 4);
      } else {
        put16(f, sport_);
        put16(f, dport_);
        if (proto_ == 6) {
          f.insert(f.end(), 8, 0);
          put16(f, 0x5000);
          f.insert(f.end(), 6, 0);
        } else {
          put16(f, udpLenOverride_ ? udpLenOverride_ : uint16_t(8 + payload_.size()));
          put16(f, 0);
        }
      }
      f.insert(f.end(), payload_.begin(), payload_.end());
    }
    while (f.size() < 60) f.push_back(0);  // Ethernet minimum, as on the wire
    if (truncate_ && truncate_ < f.size()) f.resize(truncate_);
    return f;
  }

 private:
  static void put16(std::vector<uint8_t>& f, uint16_t v) {
    f.push_back(uint8_t(v >> 8));
    f.push_back(uint8_t(v));
  }

  std::vector<std::pair<uint16_t, uint16_t>> vlans_;
  int family_ = 4;
  uint32_t src4_ = 0, dst4_ = 0;
  uint8_t options_ = 0, ihlOverride_ = 0, proto_ = 17;
  uint16_t frag_ = 0, sport_ = 0, dport_ = 0, udpLenOverride_ = 0;
  std::vector<uint8_t> payload_;
  size_t truncate_ = 0;
};

}  // namespace fh::test
