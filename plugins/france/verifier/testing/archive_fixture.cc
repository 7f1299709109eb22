// fiscal-archive-fixture OUTPUT.zip: writes the sample archive of sample_archive.h, signed with a
// new random key, for tests that check archives with other tools.
#include <cstdio>
#include <fstream>

#include "testing/sample_archive.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: fiscal-archive-fixture OUTPUT.zip\n", stderr);
    return 2;
  }
  fiscal::france::verifier::testing::SampleArchive sample =
      fiscal::france::verifier::testing::MakeSampleArchive();
  fiscal::Result<fiscal::archive::ArchiveBytes> archive = fiscal::archive::WriteArchive(
      sample.input, fiscal::france::verifier::testing::SignerFor(sample.key.get()));
  if (!archive.ok()) {
    std::fprintf(stderr, "fiscal-archive-fixture: %s\n", archive.status().ToString().c_str());
    return 1;
  }
  std::ofstream output(argv[1], std::ios::binary | std::ios::trunc);
  output.write(archive->zip.data(), static_cast<std::streamsize>(archive->zip.size()));
  output.close();
  if (!output) {
    std::fprintf(stderr, "fiscal-archive-fixture: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
