#include "webhooks/url_policy.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>

namespace fiscal::webhooks {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// Returns one part of a parsed URL, or "" when the URL has no such part.
std::string UrlPart(CURLU* url, CURLUPart part) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, 0) != CURLUE_OK || text == nullptr) return "";
  std::string value(text);
  curl_free(text);
  return value;
}

bool InRange(uint32_t address, uint32_t network, int prefix_length) {
  uint32_t mask = prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
  return (address & mask) == (network & mask);
}

// `address` in host byte order.
bool IsAllowedIpv4(uint32_t address, const AddressPolicy& policy) {
  if (InRange(address, 0x7F000000, 8)) return policy.allow_loopback;  // 127.0.0.0/8

  // IANA special-purpose ranges (RFC 6890 and its updates) that a public receiver never uses.
  bool special = InRange(address, 0x00000000, 8) ||   // 0.0.0.0/8, "this network"
                 InRange(address, 0x0A000000, 8) ||   // 10.0.0.0/8, private
                 InRange(address, 0x64400000, 10) ||  // 100.64.0.0/10, carrier-grade NAT
                 InRange(address, 0xA9FE0000, 16) ||  // 169.254.0.0/16, link-local and cloud metadata
                 InRange(address, 0xAC100000, 12) ||  // 172.16.0.0/12, private
                 InRange(address, 0xC0000000, 24) ||  // 192.0.0.0/24, protocol assignments
                 InRange(address, 0xC0A80000, 16) ||  // 192.168.0.0/16, private
                 InRange(address, 0xC6120000, 15) ||  // 198.18.0.0/15, benchmarking
                 InRange(address, 0xE0000000, 4) ||   // 224.0.0.0/4, multicast
                 InRange(address, 0xF0000000, 4);     // 240.0.0.0/4, reserved and broadcast
  return !special || policy.allow_private;
}

bool IsAllowedIpv6(const in6_addr& address, const AddressPolicy& policy) {
  const uint8_t* bytes = address.s6_addr;

  // An IPv4-mapped address (::ffff:a.b.c.d) reaches the IPv4 address.
  if (IN6_IS_ADDR_V4MAPPED(&address)) {
    uint32_t ipv4 = (uint32_t{bytes[12]} << 24) | (uint32_t{bytes[13]} << 16) | (uint32_t{bytes[14]} << 8) | bytes[15];
    return IsAllowedIpv4(ipv4, policy);
  }
  if (IN6_IS_ADDR_LOOPBACK(&address)) return policy.allow_loopback;

  bool special = IN6_IS_ADDR_UNSPECIFIED(&address) ||  // ::
                 (bytes[0] & 0xFE) == 0xFC ||          // fc00::/7, unique local
                 IN6_IS_ADDR_LINKLOCAL(&address) ||    // fe80::/10
                 IN6_IS_ADDR_SITELOCAL(&address) ||    // fec0::/10, deprecated site-local
                 IN6_IS_ADDR_MULTICAST(&address) ||    // ff00::/8
                 IN6_IS_ADDR_V4COMPAT(&address);       // ::a.b.c.d, deprecated
  return !special || policy.allow_private;
}

Status Invalid(const std::string& field, const std::string& reason) {
  return Status::InvalidArgument(field, "invalid url: " + reason);
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

bool IsAllowedAddress(const sockaddr* address, const AddressPolicy& policy) {
  if (address == nullptr) return false;
  if (address->sa_family == AF_INET) {
    const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(address);
    return IsAllowedIpv4(ntohl(ipv4->sin_addr.s_addr), policy);
  }
  if (address->sa_family == AF_INET6) {
    const auto* ipv6 = reinterpret_cast<const sockaddr_in6*>(address);
    return IsAllowedIpv6(ipv6->sin6_addr, policy);
  }
  return false;
}

bool IsAllowedAddressText(const std::string& address, const AddressPolicy& policy) {
  in_addr ipv4{};
  if (inet_pton(AF_INET, address.c_str(), &ipv4) == 1) return IsAllowedIpv4(ntohl(ipv4.s_addr), policy);
  in6_addr ipv6{};
  if (inet_pton(AF_INET6, address.c_str(), &ipv6) == 1) return IsAllowedIpv6(ipv6, policy);
  return false;
}

Status ValidateWebhookUrl(const std::string& url, const std::string& field) {
  if (url.empty()) return Status::InvalidArgument(field, field + " is required");
  if (url.size() > 2048) return Invalid(field, "the URL is longer than 2048 bytes");
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7F) {
      return Invalid(field, "the URL contains a space, a control character or a non-ASCII byte; percent-encode it");
    }
  }

  // libcurl's own parser, so that the checks see the same host that the sender connects to. It
  // also normalises numeric IPv4 forms such as "2130706433" to dotted quads.
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed) return Status::Internal("libcurl could not allocate a URL handle");
  CURLUcode code = curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME);
  if (code != CURLUE_OK) {
    return Invalid(field, std::string(curl_url_strerror(code)) + "; expected an absolute URL such as "
                                                                 "https://example.com/webhooks");
  }

  std::string scheme = Lower(UrlPart(parsed.get(), CURLUPART_SCHEME));
  if (scheme != "https" && scheme != "http") {
    return Invalid(field, "the scheme must be https, not \"" + scheme + "\"");
  }
  // The raw authority is checked as well, because libcurl reports an empty user ("https://@host")
  // as no user at all.
  size_t separator = url.find("://");
  if (separator == std::string::npos) return Invalid(field, "expected an absolute URL such as https://example.com/webhooks");
  size_t authority_start = separator + 3;
  std::string authority = url.substr(authority_start, url.find_first_of("/?#", authority_start) - authority_start);
  if (!UrlPart(parsed.get(), CURLUPART_USER).empty() || !UrlPart(parsed.get(), CURLUPART_PASSWORD).empty() ||
      authority.find('@') != std::string::npos) {
    return Invalid(field, "the URL must not contain a user name or password");
  }
  if (url.find('#') != std::string::npos) return Invalid(field, "the URL must not contain a fragment (#...)");
  if (!UrlPart(parsed.get(), CURLUPART_ZONEID).empty()) return Invalid(field, "IPv6 zone ids are not allowed");

  std::string host = Lower(UrlPart(parsed.get(), CURLUPART_HOST));
  if (host.empty()) return Invalid(field, "the URL has no host");
  std::string bare_host = host;
  if (bare_host.size() > 2 && bare_host.front() == '[' && bare_host.back() == ']') {
    bare_host = bare_host.substr(1, bare_host.size() - 2);
  }

  bool loopback = bare_host == "localhost" || bare_host == "127.0.0.1" || bare_host == "::1";
  if (scheme == "http" && !loopback) {
    return Invalid(field, "the scheme must be https; plain http is allowed only for 127.0.0.1, [::1] and localhost");
  }

  // IP literals are checked here too, so that an obviously internal target is rejected when the
  // webhook is saved instead of failing on every delivery.
  AddressPolicy policy;
  in6_addr scratch{};
  bool literal = inet_pton(AF_INET, bare_host.c_str(), &scratch) == 1 ||
                 inet_pton(AF_INET6, bare_host.c_str(), &scratch) == 1;
  if (literal && !IsAllowedAddressText(bare_host, policy)) {
    return Invalid(field, "the host " + bare_host + " is in a private, link-local or reserved address range");
  }
  return Status::Ok();
}

}  // namespace fiscal::webhooks
