// The pages behind the links in TradersFlow's emails. They are clients of the public API: the
// token travels from the link's query to a JSON POST, never back to the server in a URL.
(function () {
  'use strict';

  // First, before the page renders or loads anything else: take the token out of the address bar,
  // so it is not kept in history, shown over a shoulder, or bookmarked.
  var token = new URLSearchParams(window.location.search).get('token');
  if (window.location.search || window.location.hash) {
    window.history.replaceState(null, '', window.location.pathname);
  }

  var SPENT = {
    verify: 'This link has already been used or has expired. Sign in to the app to have a new confirmation email sent.',
    confirm: 'This link has already been used or has expired. Ask for the change again from your account settings.',
    reset: 'This link has already been used or has expired. Ask for a new password reset link from the sign-in screen.'
  };
  var DONE = {
    verify: 'Your email address is confirmed. You can now sign in.',
    confirm: 'Your email address has been changed. Sign in with the new address from now on.',
    reset: 'Your password has been changed and every device has been signed out. Sign in with your new password.'
  };
  var API = {
    verify: '/api/v1/auth/verify-email',
    confirm: '/api/v1/auth/email/confirm',
    reset: '/api/v1/auth/password-reset/confirm',
    request: '/api/v1/auth/password-reset/request'
  };

  function post(path, body) {
    return fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json, application/problem+json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer'
    }).then(function (response) {
      if (response.ok) {
        return { ok: true };
      }
      return response.json().catch(function () { return {}; }).then(function (problem) {
        return { ok: false, status: response.status, problem: problem || {} };
      });
    }, function () {
      return { ok: false, status: 0, problem: {} };
    });
  }

  function tokenSpent(result) {
    var errors = result.problem.errors || [];
    return result.status === 422 && errors.some(function (e) { return e.field === 'token'; });
  }

  function show(text, outcome) {
    var status = document.getElementById('status');
    status.textContent = text;
    status.className = outcome;
    status.focus();
  }

  function failure(flow, result) {
    if (tokenSpent(result)) {
      return SPENT[flow];
    }
    if (result.status === 429) {
      return 'Too many attempts. Wait a minute, then try again.';
    }
    if (result.status === 409 && result.problem.detail) {
      return result.problem.detail + '.';
    }
    if (result.status === 0 || result.status >= 500) {
      return 'TradersFlow cannot be reached just now. Try again in a few minutes: your link still works.';
    }
    return 'This link could not be used. Open it again from your email, or ask for a new one.';
  }

  // Only a press of the button confirms, never the page load: mail security scanners open the
  // links in emails, some in a browser that runs this script, and an address must not be
  // confirmed (or an account moved to it) because a scanner looked at the mail.
  function confirmOnPress(flow) {
    var button = document.getElementById('confirm-button');
    button.hidden = false;
    button.focus();
    button.addEventListener('click', function () {
      button.disabled = true;
      post(API[flow], { token: token }).then(function (result) {
        // A busy or unreachable server leaves the link usable: the button stays for another try.
        var again = !result.ok && (result.status === 0 || result.status === 429 || result.status >= 500);
        button.disabled = false;
        button.hidden = !again;
        show(result.ok ? DONE[flow] : failure(flow, result), result.ok ? 'done' : 'failed');
      });
    });
  }

  // Shows one of the page's forms with the focus in its first field; on submit, clears the
  // form's error line and calls submitted(form, button).
  function openForm(formId, first, error, submitted) {
    var form = document.getElementById(formId);
    var button = form.querySelector('button');
    document.getElementById('status').textContent = '';
    form.hidden = false;
    first.focus();
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      error.textContent = '';
      submitted(form, button);
    });
  }

  function resetForm() {
    var password = document.getElementById('new-password');
    var repeat = document.getElementById('repeat-password');
    var error = document.getElementById('password-error');
    openForm('reset-form', password, error, function (form, button) {
      if (password.value.length < 10 || password.value.length > 128) {
        error.textContent = 'The password must be 10 to 128 characters.';
        password.focus();
        return;
      }
      if (password.value !== repeat.value) {
        error.textContent = 'The two passwords are not the same.';
        repeat.focus();
        return;
      }
      button.disabled = true;
      post(API.reset, { token: token, newPassword: password.value }).then(function (result) {
        button.disabled = false;
        if (result.ok) {
          form.hidden = true;
          password.value = '';
          repeat.value = '';
          show(DONE.reset, 'done');
        } else if (result.problem.code === 'weak_password') {
          error.textContent = (result.problem.detail || 'That password cannot be used') + '.';
          password.focus();
        } else if (tokenSpent(result)) {
          form.hidden = true;
          show(SPENT.reset, 'failed');
        } else {
          show(failure('reset', result), 'failed');
        }
      });
    });
  }

  // The reset page without a token is where the lockout and "already registered" emails send
  // someone to ask for a link: it asks for their address and has one mailed.
  function requestForm() {
    var email = document.getElementById('reset-email');
    var error = document.getElementById('email-error');
    openForm('request-form', email, error, function (form, button) {
      var address = email.value.trim();
      if (address.indexOf('@') < 1) {
        error.textContent = 'Enter the email address you sign in with.';
        email.focus();
        return;
      }
      button.disabled = true;
      post(API.request, { email: address }).then(function (result) {
        button.disabled = false;
        if (result.ok) {
          form.hidden = true;
          show('If an account uses ' + address + ', a link to choose a new password is on its way. It works once, for 1 hour.', 'done');
        } else if (result.status === 422) {
          error.textContent = 'Enter the email address you sign in with.';
          email.focus();
        } else if (result.status === 429) {
          show('Too many attempts. Wait a minute, then try again.', 'failed');
        } else {
          show('TradersFlow cannot be reached just now. Try again in a few minutes.', 'failed');
        }
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var flow = document.getElementById('page').getAttribute('data-flow');
    if (!token && flow === 'reset') {
      requestForm();
      return;
    }
    if (!token) {
      show('This link is incomplete. Open it again from your email, copying the whole address if you paste it.', 'failed');
      return;
    }
    if (flow === 'reset') {
      resetForm();
    } else {
      confirmOnPress(flow);
    }
  });
})();
