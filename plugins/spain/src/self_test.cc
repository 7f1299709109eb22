#include "self_test.h"

#include "huella.h"
#include "qr.h"

namespace fiscal::spain {

Status RunSelfTest(int* checks) {
  *checks = 0;

  AltaHuellaFields first;
  first.IDEmisorFactura = "89890001K";
  first.NumSerieFactura = "12345678/G33";
  first.FechaExpedicionFactura = "01-01-2024";
  first.TipoFactura = "F1";
  first.CuotaTotal = "12.35";
  first.ImporteTotal = "123.45";
  first.FechaHoraHusoGenRegistro = "2024-01-01T19:20:30+01:00";
  std::string first_hash = ComputeAltaHuella(first);
  if (first_hash != "3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60") {
    return Status::Internal("self-test failed: huella of AEAT example 1 (first alta) is " + first_hash);
  }
  ++*checks;

  AltaHuellaFields second = first;
  second.NumSerieFactura = "12345679/G34";
  second.Huella = first_hash;
  second.FechaHoraHusoGenRegistro = "2024-01-01T19:20:35+01:00";
  std::string second_hash = ComputeAltaHuella(second);
  if (second_hash != "F7B94CFD8924EDFF273501B01EE5153E4CE8F259766F88CF6ACB8935802A2B97") {
    return Status::Internal("self-test failed: huella of AEAT example 2 (chained alta) is " + second_hash);
  }
  ++*checks;

  AnulacionHuellaFields anulacion;
  anulacion.IDEmisorFacturaAnulada = "89890001K";
  anulacion.NumSerieFacturaAnulada = "12345679/G34";
  anulacion.FechaExpedicionFacturaAnulada = "01-01-2024";
  anulacion.Huella = second_hash;
  anulacion.FechaHoraHusoGenRegistro = "2024-01-01T19:20:40+01:00";
  std::string anulacion_hash = ComputeAnulacionHuella(anulacion);
  if (anulacion_hash != "177547C0D57AC74748561D054A9CEC14B4C4EA23D1BEFD6F2E69E3A388F90C68") {
    return Status::Internal("self-test failed: huella of AEAT example 3 (anulación) is " + anulacion_hash);
  }
  ++*checks;

  std::string url = BuildQrUrl(kQrBaseTest, "89890001K", "12345678&G33", "01-01-2024", "241.4");
  if (url != "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K&numserie=12345678%26G33"
             "&fecha=01-01-2024&importe=241.4") {
    return Status::Internal("self-test failed: QR URL of the AEAT example is " + url);
  }
  ++*checks;

  return Status::Ok();
}

}  // namespace fiscal::spain
