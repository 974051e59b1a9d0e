// The QR page's photo slots say when a photo was taken or chosen (the form works without this script).
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches('.photo input[type="file"]')) return;
  var slot = input.closest(".photo");
  var label = slot.querySelector("span");
  var chosen = input.files && input.files.length > 0;
  slot.classList.toggle("chosen", chosen);
  label.textContent = chosen ? "已选照片" : "拍照 " + label.dataset.n;
});
