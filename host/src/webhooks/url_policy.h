// Rules for webhook URLs and for the addresses the sender connects to.
//
// Tenants choose webhook URLs, and the host then sends requests to them from inside its own
// network, so a URL is also a way to reach internal services (server-side request forgery). Two
// checks apply:
//   - ValidateWebhookUrl, when a webhook is created or changed: https only, except plain http to a
//     loopback host (127.0.0.1, ::1, localhost) for tests and local receivers. No user name or
//     password in the URL, and no IP literal in private, link-local or reserved ranges.
//   - IsAllowedAddress, for every address the sender connects to after DNS resolution, so a name
//     that resolves to a private address (or changes to one later) is rejected as well.
#pragma once

#include <sys/socket.h>

#include <string>

#include "common/status.h"

namespace fiscal::webhooks {

// Checks `url` against the rules above. Failures are kInvalidArgument on field `field`, with a
// message starting "invalid url".
Status ValidateWebhookUrl(const std::string& url, const std::string& field = "url");

struct AddressPolicy {
  // Loopback (127.0.0.0/8, ::1) is allowed by default so that local receivers work.
  // NOTE: loopback still reaches every service on the host's own machine. Deployments where
  // tenants are not trusted should turn it off.
  bool allow_loopback = true;
  // Private (10/8, 172.16/12, 192.168/16, fc00::/7), carrier-grade NAT (100.64/10), link-local
  // (169.254/16 with the cloud metadata service, fe80::/10), multicast and reserved ranges.
  bool allow_private = false;
};

// Returns true when the sender may connect to `address` (AF_INET or AF_INET6) under `policy`.
// IPv4-mapped IPv6 addresses are judged by their IPv4 address.
bool IsAllowedAddress(const sockaddr* address, const AddressPolicy& policy);

// Same for an IP literal ("10.0.0.1", "::1"); false for text that is not an IP address.
bool IsAllowedAddressText(const std::string& address, const AddressPolicy& policy);

}  // namespace fiscal::webhooks
