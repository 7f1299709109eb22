// Webhook signatures, secrets, URL rules, address rules and retry backoff. No servers needed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

#include "webhooks/signing.h"
#include "webhooks/url_policy.h"
#include "webhooks/webhook_sender.h"

namespace fiscal::webhooks {
namespace {

// Expected values computed with the OpenSSL command line, independently of the code under test:
//   printf '%s' '1700000000.{"id":"evt_1","type":"fiscalization.completed"}' |
//     openssl dgst -sha256 -hmac 'whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
TEST(WebhookSigning, MatchesOpensslVector) {
  std::string secret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::string body = R"({"id":"evt_1","type":"fiscalization.completed"})";

  EXPECT_EQ(SignWebhookPayload(secret, 1700000000, body),
            "sha256=d9974aae6ef60aaab8f5b740471de0754b18d58bc8b39e041b2c1079fd836b30");
}

// printf '%s' '0.' | openssl dgst -sha256 -hmac 'k'
TEST(WebhookSigning, EmptyBodyVector) {
  EXPECT_EQ(SignWebhookPayload("k", 0, ""), "sha256=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7");
}

TEST(WebhookSigning, VerifyRejectsChanges) {
  std::string secret = GenerateWebhookSecret();
  std::string body = R"({"a":1})";
  std::string signature = SignWebhookPayload(secret, 1700000000, body);

  EXPECT_TRUE(VerifyWebhookSignature(secret, 1700000000, body, signature));
  EXPECT_FALSE(VerifyWebhookSignature(secret, 1700000001, body, signature));
  EXPECT_FALSE(VerifyWebhookSignature(secret, 1700000000, R"({"a":2})", signature));
  EXPECT_FALSE(VerifyWebhookSignature(secret + "x", 1700000000, body, signature));
  EXPECT_FALSE(VerifyWebhookSignature(secret, 1700000000, body, signature.substr(0, 20)));
  EXPECT_FALSE(VerifyWebhookSignature(secret, 1700000000, body, ""));
}

TEST(WebhookSecret, FormatAndUniqueness) {
  std::string first = GenerateWebhookSecret();
  std::string second = GenerateWebhookSecret();

  ASSERT_EQ(first.size(), 6u + 64u);
  EXPECT_EQ(first.substr(0, 6), "whsec_");
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef", 6), std::string::npos) << first;
  EXPECT_NE(first, second);
}

TEST(WebhookUrl, AcceptsHttpsAndLoopbackHttp) {
  for (const char* url : {"https://example.com/hooks", "https://example.com:8443/a/b?x=1", "HTTPS://Example.COM",
                          "http://127.0.0.1:9000/hook", "http://localhost/hook", "http://[::1]:8080/",
                          "https://127.0.0.1/hook", "https://203.0.113.7/hook"}) {
    Status status = ValidateWebhookUrl(url);
    EXPECT_TRUE(status.ok()) << url << ": " << status.ToString();
  }
}

TEST(WebhookUrl, RejectsBadUrls) {
  struct Case {
    const char* url;
    const char* reason;  // expected in the message
  };
  const Case cases[] = {
      {"ftp://example.com/x", "scheme must be https"},
      {"file:///etc/passwd", "scheme must be https"},
      {"gopher://example.com/", "scheme must be https"},
      {"http://example.com/hook", "plain http is allowed only"},
      {"http://10.0.0.5/hook", "plain http is allowed only"},
      {"https://user:secret@example.com/", "user name or password"},
      {"https://user@example.com/", "user name or password"},
      {"https://@example.com/", "user name or password"},
      {"https://example.com/a#frag", "fragment"},
      {"https://10.1.2.3/hook", "private, link-local or reserved"},
      {"https://169.254.169.254/latest/meta-data", "private, link-local or reserved"},
      {"https://192.168.1.1/", "private, link-local or reserved"},
      {"https://172.16.0.1/", "private, link-local or reserved"},
      {"https://[fd00::1]/", "private, link-local or reserved"},
      {"https://[fe80::1]/", "private, link-local or reserved"},
      {"https://[::ffff:10.0.0.1]/", "private, link-local or reserved"},
      {"https://0.0.0.0/", "private, link-local or reserved"},
      {"https://example.com/a b", "space"},
      {"example.com/hook", "absolute URL"},
      {"https://", "invalid url"},
  };
  for (const Case& c : cases) {
    Status status = ValidateWebhookUrl(c.url);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.url;
    EXPECT_EQ(status.field(), "url") << c.url;
    EXPECT_EQ(status.message().rfind("invalid url", 0), 0u) << c.url << ": " << status.message();
    EXPECT_NE(status.message().find(c.reason), std::string::npos) << c.url << ": " << status.message();
  }
}

TEST(WebhookUrl, EmptyIsRequired) {
  Status status = ValidateWebhookUrl("");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "url is required");
}

TEST(WebhookUrl, RejectsOverlongUrl) {
  Status status = ValidateWebhookUrl("https://example.com/" + std::string(2100, 'a'));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
}

TEST(WebhookAddress, DefaultPolicy) {
  AddressPolicy policy;
  for (const char* address : {"127.0.0.1", "127.5.5.5", "::1", "8.8.8.8", "203.0.113.7", "2001:db8::1"}) {
    EXPECT_TRUE(IsAllowedAddressText(address, policy)) << address;
  }
  for (const char* address : {"10.0.0.1", "172.31.255.255", "192.168.0.10", "169.254.169.254", "100.64.0.1",
                              "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1", "fd12::1", "fe80::1",
                              "ff02::1", "::", "::ffff:169.254.169.254", "not an address"}) {
    EXPECT_FALSE(IsAllowedAddressText(address, policy)) << address;
  }
  // Neighbours of the blocked ranges stay allowed.
  for (const char* address : {"172.15.255.255", "172.32.0.0", "100.63.255.255", "11.0.0.0", "169.253.255.255"}) {
    EXPECT_TRUE(IsAllowedAddressText(address, policy)) << address;
  }
}

TEST(WebhookAddress, PolicySwitches) {
  AddressPolicy no_loopback;
  no_loopback.allow_loopback = false;
  EXPECT_FALSE(IsAllowedAddressText("127.0.0.1", no_loopback));
  EXPECT_FALSE(IsAllowedAddressText("::1", no_loopback));
  EXPECT_FALSE(IsAllowedAddressText("::ffff:127.0.0.1", no_loopback));

  AddressPolicy private_allowed;
  private_allowed.allow_private = true;
  EXPECT_TRUE(IsAllowedAddressText("10.0.0.1", private_allowed));
  EXPECT_TRUE(IsAllowedAddressText("fd12::1", private_allowed));
}

TEST(WebhookAddress, SockaddrForms) {
  AddressPolicy policy;
  sockaddr_in ipv4{};
  ipv4.sin_family = AF_INET;
  inet_pton(AF_INET, "169.254.169.254", &ipv4.sin_addr);
  EXPECT_FALSE(IsAllowedAddress(reinterpret_cast<sockaddr*>(&ipv4), policy));
  inet_pton(AF_INET, "127.0.0.1", &ipv4.sin_addr);
  EXPECT_TRUE(IsAllowedAddress(reinterpret_cast<sockaddr*>(&ipv4), policy));

  sockaddr_in6 ipv6{};
  ipv6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "fe80::1", &ipv6.sin6_addr);
  EXPECT_FALSE(IsAllowedAddress(reinterpret_cast<sockaddr*>(&ipv6), policy));

  sockaddr unknown{};
  unknown.sa_family = AF_UNIX;
  EXPECT_FALSE(IsAllowedAddress(&unknown, policy));
  EXPECT_FALSE(IsAllowedAddress(nullptr, policy));
}

TEST(WebhookBackoff, StaysWithinJitterBounds) {
  // 10 s doubling, capped at 1 h, times a factor in [0.8, 1.2].
  for (int round = 0; round < 200; ++round) {
    double first = WebhookSender::BackoffSeconds(1, 10, 3600);
    EXPECT_GE(first, 8.0);
    EXPECT_LE(first, 12.0);
    double fourth = WebhookSender::BackoffSeconds(4, 10, 3600);
    EXPECT_GE(fourth, 64.0);
    EXPECT_LE(fourth, 96.0);
    double late = WebhookSender::BackoffSeconds(30, 10, 3600);
    EXPECT_GE(late, 2880.0);
    EXPECT_LE(late, 4320.0);
  }
}

TEST(WebhookBackoff, HandlesExtremeAttempts) {
  EXPECT_GE(WebhookSender::BackoffSeconds(0, 10, 3600), 8.0);
  EXPECT_LE(WebhookSender::BackoffSeconds(0, 10, 3600), 12.0);
  EXPECT_LE(WebhookSender::BackoffSeconds(1000000, 10, 3600), 4320.0);
  EXPECT_EQ(WebhookSender::BackoffSeconds(5, 0, 3600), 0.0);
}

TEST(WebhookBackoff, JitterVaries) {
  double first = WebhookSender::BackoffSeconds(3, 10, 3600);
  bool varied = false;
  for (int round = 0; round < 50 && !varied; ++round) varied = WebhookSender::BackoffSeconds(3, 10, 3600) != first;
  EXPECT_TRUE(varied);
}

}  // namespace
}  // namespace fiscal::webhooks
