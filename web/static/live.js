// A live panel (the board's timeline and inbox, the job list, the call centre's queue and case) is redrawn by a
// poll when what it shows has changed. A redraw replaces its forms, and with them whatever was being typed there:
// a finish note, a reason, an answer to a direct-line request. While a field of the panel holds something typed,
// or has the focus, the redraw waits: the next poll brings it (the panel keeps asking with the version it shows).
function beingTyped(panel) {
  var fields = panel.querySelectorAll("input, textarea, select");
  for (var i = 0; i < fields.length; i++) {
    var f = fields[i];
    if (f.type === "hidden" || f.type === "submit" || f.type === "button") continue;
    if (f === document.activeElement) return true;
    if (f instanceof HTMLSelectElement) {
      // as drawn: the option marked selected, else the first (no option marked is not a choice made)
      var drawn = Array.prototype.find.call(f.options, function (o) { return o.defaultSelected; }) || f.options[0];
      if (drawn && f.value !== drawn.value) return true;
    } else if (f.type === "checkbox" || f.type === "radio") {
      if (f.checked !== f.defaultChecked) return true;
    } else if (f.value !== f.defaultValue) {
      return true;
    }
  }
  return false;
}

document.addEventListener("htmx:beforeSwap", function (evt) {
  var panel = evt.detail.target;
  var polled = panel && (panel.getAttribute("hx-trigger") || "").indexOf("every ") === 0;
  if (polled && evt.detail.xhr.status === 200 && beingTyped(panel)) {
    evt.detail.shouldSwap = false;
  }
});
