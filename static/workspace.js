// Vigil's organiser pages work without this file; it adds a print button and a camera
// scan of an attendee's QR code at check-in: by the browser's own BarcodeDetector
// where it has one, else by jsQR (vendor/jsQR.js, served by Vigil itself). Nothing is
// loaded from anywhere else, and nothing the camera sees leaves the phone.
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  var form = document.querySelector("[data-scan-form]");
  var start = form && form.querySelector("[data-scan]");
  if (!start || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var CODE = /^[A-HJ-NP-Z2-9]{6}$/;  // the alphabet of check-in codes
  var box = form.querySelector("[data-scanner]");
  var video = box.querySelector("video");
  var status = box.querySelector("[data-scan-status]");
  var input = form.querySelector("input[name=q]");
  var stream = null;
  var read = null;  // read(video) -> Promise of the text of a QR code in view, or ""

  function withJsQR() {
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    return function (source) {
      canvas.width = source.videoWidth;
      canvas.height = source.videoHeight;
      if (!canvas.width) { return Promise.resolve(""); }
      context.drawImage(source, 0, 0);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      return Promise.resolve(found ? found.data : "");
    };
  }

  function offer(reader) {
    read = reader;
    start.hidden = false;
  }

  if ("BarcodeDetector" in window) {
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") === -1) {
        if (window.jsQR) { offer(withJsQR()); }
        return;
      }
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      offer(function (source) {
        return detector.detect(source).then(function (codes) {
          return codes.length ? codes[0].rawValue : "";
        });
      });
    });
  } else if (window.jsQR) {
    offer(withJsQR());
  }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    box.hidden = true;
    start.hidden = false;
  }

  function look() {
    if (!stream) { return; }
    read(video).then(function (text) {
      text = text.trim().toUpperCase();
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
