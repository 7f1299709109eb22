#include "aeat_xml.h"

#include <stdexcept>

namespace fiscal::spain {
namespace {

const xmlChar* Chars(const std::string& text) { return reinterpret_cast<const xmlChar*>(text.c_str()); }

void Check(int result, const char* what) {
  if (result < 0) throw std::runtime_error(std::string("libxml2 xmlTextWriter failed in ") + what);
}

}  // namespace

XmlWriter::XmlWriter(bool indent) {
  buffer_ = xmlBufferCreate();
  if (buffer_ == nullptr) throw std::runtime_error("libxml2 xmlBufferCreate failed");
  writer_ = xmlNewTextWriterMemory(buffer_, 0);
  if (writer_ == nullptr) {
    xmlBufferFree(buffer_);
    throw std::runtime_error("libxml2 xmlNewTextWriterMemory failed");
  }
  if (indent) {
    Check(xmlTextWriterSetIndent(writer_, 1), "SetIndent");
    Check(xmlTextWriterSetIndentString(writer_, reinterpret_cast<const xmlChar*>("  ")),
          "SetIndentString");
  }
}

XmlWriter::~XmlWriter() {
  xmlFreeTextWriter(writer_);
  xmlBufferFree(buffer_);
}

void XmlWriter::Declaration() {
  Check(xmlTextWriterStartDocument(writer_, "1.0", "UTF-8", nullptr), "StartDocument");
}

void XmlWriter::Start(const std::string& qualified_name) {
  Check(xmlTextWriterStartElement(writer_, Chars(qualified_name)), "StartElement");
}

void XmlWriter::Attribute(const std::string& qualified_name, std::string_view value) {
  std::string text(value);
  Check(xmlTextWriterWriteAttribute(writer_, Chars(qualified_name), Chars(text)), "WriteAttribute");
}

void XmlWriter::Element(const std::string& qualified_name, std::string_view text) {
  std::string value(text);
  Check(xmlTextWriterWriteElement(writer_, Chars(qualified_name), Chars(value)), "WriteElement");
}

void XmlWriter::Raw(std::string_view xml) {
  std::string text(xml);
  Check(xmlTextWriterWriteRaw(writer_, Chars(text)), "WriteRaw");
}

void XmlWriter::End() { Check(xmlTextWriterEndElement(writer_), "EndElement"); }

std::string XmlWriter::Finish() {
  Check(xmlTextWriterEndDocument(writer_), "EndDocument");
  Check(xmlTextWriterFlush(writer_), "Flush");
  return std::string(reinterpret_cast<const char*>(xmlBufferContent(buffer_)),
                     static_cast<size_t>(xmlBufferLength(buffer_)));
}

}  // namespace fiscal::spain
