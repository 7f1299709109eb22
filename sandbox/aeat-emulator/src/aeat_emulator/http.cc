#include "aeat_emulator/http.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace aeat_emulator {
namespace {

std::string ToLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string TrimSpaces(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

bool ParseHead(const std::string& head, HttpRequest* request) {
  size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const size_t first_space = request_line.find(' ');
  const size_t second_space = request_line.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) return false;
  request->method = request_line.substr(0, first_space);
  request->target = request_line.substr(first_space + 1, second_space - first_space - 1);
  request->version = request_line.substr(second_space + 1);
  if (request->version != "HTTP/1.1" && request->version != "HTTP/1.0") return false;

  request->headers.clear();
  size_t position = line_end + 2;
  while (position < head.size()) {
    line_end = head.find("\r\n", position);
    if (line_end == std::string::npos) line_end = head.size();
    const std::string line = head.substr(position, line_end - position);
    position = line_end + 2;
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) return false;
    request->headers[ToLower(line.substr(0, colon))] = TrimSpaces(line.substr(colon + 1));
  }

  // HTTP/1.1 keeps the connection open unless the request sends "Connection: close". HTTP/1.0
  // closes it unless the request sends "Connection: keep-alive".
  const auto connection = request->headers.find("connection");
  const std::string token = connection == request->headers.end() ? "" : ToLower(connection->second);
  request->keep_alive =
      request->version == "HTTP/1.1" ? token != "close" : token == "keep-alive";
  return true;
}

}  // namespace

bool HttpReader::FillBuffer() {
  char chunk[16 * 1024];
  const ssize_t received = stream_.Read(chunk, sizeof(chunk));
  if (received <= 0) return false;
  buffer_.append(chunk, static_cast<size_t>(received));
  return true;
}

ReadStatus HttpReader::ReadRequest(HttpRequest* request) {
  size_t head_end = buffer_.find("\r\n\r\n");
  while (head_end == std::string::npos) {
    if (buffer_.size() > kMaxHeaderBytes) return ReadStatus::kHeaderTooLarge;
    if (!FillBuffer()) return buffer_.empty() ? ReadStatus::kClosed : ReadStatus::kMalformed;
    head_end = buffer_.find("\r\n\r\n");
  }
  if (head_end > kMaxHeaderBytes) return ReadStatus::kHeaderTooLarge;

  const std::string head = buffer_.substr(0, head_end);
  buffer_.erase(0, head_end + 4);
  if (!ParseHead(head, request)) return ReadStatus::kMalformed;

  if (request->headers.count("transfer-encoding") != 0) return ReadStatus::kUnsupported;

  size_t content_length = 0;
  const auto length_header = request->headers.find("content-length");
  if (length_header != request->headers.end()) {
    const std::string& text = length_header->second;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), content_length);
    if (error != std::errc() || end != text.data() + text.size()) return ReadStatus::kMalformed;
  }
  if (content_length > kMaxBodyBytes) return ReadStatus::kTooLarge;

  while (buffer_.size() < content_length) {
    if (!FillBuffer()) return ReadStatus::kMalformed;
  }
  request->body = buffer_.substr(0, content_length);
  buffer_.erase(0, content_length);
  return ReadStatus::kOk;
}

const char* HttpStatusText(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

std::string SerializeReply(const HttpReply& reply, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                    HttpStatusText(reply.status) + "\r\n";
  out += "Content-Type: " + reply.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "\r\n";
  out += reply.body;
  return out;
}

HttpReply TextReply(int status, const std::string& text) {
  HttpReply reply;
  reply.status = status;
  reply.content_type = "text/plain; charset=UTF-8";
  reply.body = text + "\n";
  return reply;
}

}  // namespace aeat_emulator
