// Vigil's organiser pages work without this file; it adds a print button and, where
// the browser can read QR codes itself (BarcodeDetector), a camera scan at check-in.
// Nothing is loaded from anywhere else, and nothing seen by the camera leaves the phone.
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  var form = document.querySelector("[data-scan-form]");
  var start = form && form.querySelector("[data-scan]");
  if (!start || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
      !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var CODE = /^[A-HJ-NP-Z2-9]{6}$/;  // the alphabet of check-in codes
  var box = form.querySelector("[data-scanner]");
  var video = box.querySelector("video");
  var status = box.querySelector("[data-scan-status]");
  var input = form.querySelector("input[name=q]");
  var stream = null;
  var detector = null;

  window.BarcodeDetector.getSupportedFormats().then(function (formats) {
    if (formats.indexOf("qr_code") === -1) { return; }
    detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    start.hidden = false;
  });

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    box.hidden = true;
    start.hidden = false;
  }

  function look() {
    if (!stream) { return; }
    detector.detect(video).then(function (codes) {
      var text = codes.length ? codes[0].rawValue.trim().toUpperCase() : "";
      if (CODE.test(text)) {
        input.value = text;
        stop();
        form.requestSubmit(form.querySelector("[data-scan-submit]"));
      } else {
        window.setTimeout(look, 200);
      }
    }, function () { window.setTimeout(look, 400); });
  }

  start.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        box.hidden = false;
        start.hidden = true;
        return video.play();
      })
      .then(look)
      .catch(function () {
        box.hidden = false;
        status.textContent = status.dataset.denied;
      });
  });
  box.querySelector("[data-scan-stop]").addEventListener("click", stop);
})();
