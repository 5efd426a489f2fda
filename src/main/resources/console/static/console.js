// The owners' console: dialogs for the account page's actions. Without this script the forms
// are still there (hidden); with it, each action button opens its dialog, focus moves into it,
// Escape or Cancel closes it, Tab stays inside it, and focus returns to the button.
(function () {
  'use strict';
  var opener = null;

  function focusables(dialog) {
    return Array.prototype.filter.call(
      dialog.querySelectorAll('input:not([type=hidden]), button, select, textarea, a[href]'),
      function (el) { return !el.disabled; });
  }

  function open(dialog, button) {
    opener = button;
    dialog.hidden = false;
    document.body.classList.add('dialog-open');
    var first = focusables(dialog)[0];
    if (first) { first.focus(); }
  }

  function close(dialog) {
    dialog.hidden = true;
    document.body.classList.remove('dialog-open');
    if (opener) { opener.focus(); opener = null; }
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-dialog]').forEach(function (button) {
      var dialog = document.getElementById(button.getAttribute('data-dialog'));
      if (!dialog) { return; }
      button.addEventListener('click', function () { open(dialog, button); });
    });
    document.querySelectorAll('[role=dialog]').forEach(function (dialog) {
      dialog.querySelectorAll('[data-close]').forEach(function (b) {
        b.addEventListener('click', function () { close(dialog); });
      });
      dialog.addEventListener('keydown', function (e) {
        if (e.key === 'Escape') { e.preventDefault(); close(dialog); return; }
        if (e.key !== 'Tab') { return; }
        var items = focusables(dialog);
        if (items.length === 0) { return; }
        var first = items[0], last = items[items.length - 1];
        if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
        else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
      });
      dialog.querySelector('form').addEventListener('submit', function (e) {
        var confirm = dialog.querySelector('button[type=submit]');
        if (confirm.disabled) { e.preventDefault(); return; }
        confirm.disabled = true; // one press, one action
      });
    });
    // A Confirm refused with field errors (422) comes back with its dialog open (the server puts
    // the typed values and each error by its field): it takes the keys like any open dialog, and
    // focus goes to the first field in error. Otherwise the outcome is announced and focused, so a
    // keyboard user lands on it.
    var reopened = document.querySelector('[role=dialog][data-open]');
    if (reopened) {
      open(reopened, document.querySelector('[data-dialog="' + reopened.id + '"]'));
      var invalid = reopened.querySelector('[aria-invalid=true]');
      if (invalid) { invalid.focus(); }
      return;
    }
    var outcome = document.getElementById('outcome');
    if (!outcome || outcome.textContent.trim() === '') { return; }
    outcome.focus();
  });
}());
