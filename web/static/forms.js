// A page's form is sent once. Enter pressed three times on the call form opened three cases for one call: a
// second Enter or click while the first is on its way sends nothing. Forms htmx sends stay its own.
document.addEventListener("submit", function (evt) {
  var form = evt.target;
  if ((form.getAttribute("method") || "get").toLowerCase() !== "post" || form.hasAttribute("hx-post")) return;
  if (form.dataset.sent) {
    evt.preventDefault();
  } else if (!evt.defaultPrevented) {
    form.dataset.sent = "yes";
  }
});

// Back to a page kept by the browser (the back button): its forms may be sent again.
window.addEventListener("pageshow", function () {
  var sent = document.querySelectorAll("form[data-sent]");
  for (var i = 0; i < sent.length; i++) delete sent[i].dataset.sent;
});

// An Enter that sent the call form and came again lands on the next page's focused "Book": the first offer was
// booked before the operator saw the offers. An Enter on the element the page focused by itself, in the moment
// after it is drawn, or held down, does nothing.
var drawnAt = performance.now();
var SETTLE_MS = 600;
document.addEventListener("keydown", function (evt) {
  var focused = document.activeElement;
  if (evt.key !== "Enter" || !focused || !focused.hasAttribute("autofocus")) return;
  if (evt.repeat || performance.now() - drawnAt < SETTLE_MS) evt.preventDefault();
});
