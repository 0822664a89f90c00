// A look-up (a known plate, a known phone) fills the call and walk-in forms out of band. It must never replace
// what a person typed: a field is filled only while it is empty or still holds what a look-up put there; the
// field they are in keeps the focus, its fill selected, so what they type next replaces it. A look-up replaces or
// clears only what the same look-up filled (data-looked-up, data-clears: "plate", "phone"), so a corrected plate
// does not keep the previous owner's name and e-mail, and a plate does not replace the caller their phone found.
var refocus = null;

document.addEventListener("htmx:oobBeforeSwap", function (evt) {
  var target = evt.detail.target;
  var incoming = evt.detail.fragment && evt.detail.fragment.firstElementChild;
  if (!(target instanceof HTMLInputElement) || !incoming) return;
  var mine = incoming.dataset || {};
  var typed = target.value !== "" && !target.dataset.lookedUp;
  // filled by another look-up (the caller found by their phone): a plate does not replace who is calling
  var other = target.value !== "" && target.dataset.lookedUp && target.dataset.lookedUp !== (mine.lookedUp || mine.clears);
  if (mine.replace !== "yes" && (typed || other)) {  // "replace": the person chose it (a car from the caller's list)
    evt.detail.shouldSwap = false;
  } else if (target === document.activeElement) {
    refocus = target.id;  // the field they just moved to: filled, and selected so that typing replaces the fill
  }
});

document.addEventListener("htmx:oobAfterSwap", function (evt) {
  if (refocus && evt.target.id === refocus) {
    refocus = null;
    evt.target.focus();
    evt.target.select();
  }
});

// Typing in a field a look-up filled makes it the person's own.
document.addEventListener("input", function (evt) {
  if (evt.target.dataset && evt.target.dataset.lookedUp) delete evt.target.dataset.lookedUp;
});
