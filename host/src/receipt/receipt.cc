#include "receipt/receipt.h"

#include <qrencode.h>

#include <memory>

#include "common/json_tree.h"

namespace fiscal::receipt {

std::string EscapeHtml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

Result<std::string> QrSvg(const std::string& payload) {
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString8bit(payload.c_str(), 0, QR_ECLEVEL_M), &QRcode_free);
  if (!code) return Status::Internal("the QR code could not be encoded (payload of " + std::to_string(payload.size()) + " bytes)");

  const int quiet_zone = 4;
  const int width = code->width;
  const int size = width + 2 * quiet_zone;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(size) + " " +
                    std::to_string(size) + "\" width=\"40mm\" height=\"40mm\" shape-rendering=\"crispEdges\">"
                    "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      // Bit 0 of each module byte is set for a dark module.
      if (code->data[y * width + x] & 1) {
        svg += "M" + std::to_string(x + quiet_zone) + " " + std::to_string(y + quiet_zone) + "h1v1h-1z";
      }
    }
  }
  svg += "\"/></svg>";
  return svg;
}

Result<std::string> RenderHtml(const std::string& plugin_receipt_json, const std::string& qr_payload) {
  Result<json::Node> receipt = json::Parse(plugin_receipt_json, "render_receipt result");
  if (!receipt.ok()) return receipt.status();

  auto text = [&](const char* name) {
    const json::Node* node = receipt->Find(name);
    return node != nullptr && node->IsString() ? node->text() : std::string();
  };
  std::string language = text("language").empty() ? "en" : text("language");

  std::string html = "<!DOCTYPE html><html lang=\"" + EscapeHtml(language) + "\"><head><meta charset=\"utf-8\">"
                     "<title>" + EscapeHtml(text("title")) + "</title><style>body{font-family:monospace;max-width:80mm;"
                     "margin:auto}figure{text-align:center;margin:0}pre{white-space:pre-wrap}</style></head><body>";

  // The QR code comes first, as AEAT requires for VERI*FACTU invoices.
  if (!qr_payload.empty()) {
    Result<std::string> svg = QrSvg(qr_payload);
    if (!svg.ok()) return svg.status();
    html += "<figure><figcaption>" + EscapeHtml(text("qr_caption_before")) + "</figcaption>" + *svg +
            "<figcaption>" + EscapeHtml(text("qr_caption_after")) + "</figcaption></figure>";
  }

  html += "<h1>" + EscapeHtml(text("title")) + "</h1><pre>";
  if (const json::Node* lines = receipt->Find("lines"); lines != nullptr && lines->IsArray()) {
    for (const json::Node& line : lines->items()) {
      if (line.IsString()) html += EscapeHtml(line.text()) + "\n";
    }
  }
  html += "</pre></body></html>\n";
  return html;
}

}  // namespace fiscal::receipt
