/* Refund Hub policy editor: put the cursor on the line the problem is at (no library). */
(function () {
  var box = document.getElementById("policy-text");
  if (!box || !box.dataset.errorLine) { return; }
  var line = parseInt(box.dataset.errorLine, 10);
  var lines = box.value.split("\n");
  if (!(line >= 1 && line <= lines.length)) { return; }
  var start = 0;
  for (var i = 0; i < line - 1; i++) { start += lines[i].length + 1; }
  box.focus();
  box.setSelectionRange(start, start + lines[line - 1].length);
  var height = box.scrollHeight / Math.max(lines.length, 1);
  box.scrollTop = Math.max(0, (line - 4) * height);
})();
