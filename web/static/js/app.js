// Small behaviours for the pages; everything works without this file too.
document.addEventListener("submit", function (event) {
  // A form sent once shows it is busy; the server still refuses a copy sent twice (the form's token).
  var button = event.target.querySelector("[data-once]");
  if (button) {
    setTimeout(function () { button.disabled = true; button.textContent = "提交中…"; }, 0);
  }
});
document.addEventListener("click", function (event) {
  var target = event.target.closest("[data-confirm]");
  if (target && !window.confirm(target.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
