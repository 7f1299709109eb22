// Printable receipts: the plugin supplies the text in the country's language, the host lays it out
// as an HTML page and draws the QR code as SVG.
#pragma once

#include <string>

#include "common/status.h"

namespace fiscal::receipt {

// Returns an SVG image of `payload` as a QR code (error correction level M, the level AEAT
// requires, with a 4-module quiet zone).
Result<std::string> QrSvg(const std::string& payload);

// Lays out the plugin's render_receipt result (JSON text) with the QR code of `qr_payload` (none
// when empty).
Result<std::string> RenderHtml(const std::string& plugin_receipt_json, const std::string& qr_payload);

// Escapes text for HTML element content and attribute values.
std::string EscapeHtml(const std::string& text);

}  // namespace fiscal::receipt
