// The hosted invite page: runs the device-code sign-in for the invitee. It only talks to this
// gateway (/onboarding/api/invites/<token>); the gateway talks to OpenAI. No token is ever shown.
"use strict";

(function () {
  const token = decodeURIComponent(window.location.pathname.split("/").filter(Boolean).pop() || "");
  const api = "/onboarding/api/invites/" + encodeURIComponent(token);
  const minPollMs = 2000;
  let pollTimer = null;
  let countdownTimer = null;

  const $ = (id) => document.getElementById(id);

  function show(section) {
    for (const id of ["start", "code", "result", "failure"]) {
      $(id).hidden = id !== section;
    }
  }

  function fail(message, canRetry) {
    clearTimeout(pollTimer);
    clearInterval(countdownTimer);
    $("intro").hidden = true;
    $("error").textContent = message;
    $("retry-button").hidden = !canRetry;
    show("failure");
  }

  async function call(method) {
    const init = { method, headers: { accept: "application/json" }, cache: "no-store" };
    if (method === "POST") {
      // A JSON POST needs a CORS preflight, so another site cannot start a sign-in here.
      init.headers["content-type"] = "application/json";
      init.body = "{}";
    }
    const response = await fetch(api + (method === "POST" ? "/device" : ""), init);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = (body.error && body.error.message) || "This invite cannot be used.";
      throw new Error(message);
    }
    return body;
  }

  function startCountdown(expiresAt) {
    clearInterval(countdownTimer);
    const end = Date.parse(expiresAt);
    const tick = () => {
      const left = Math.max(0, Math.round((end - Date.now()) / 1000));
      $("countdown").textContent =
        "The code expires in " + Math.floor(left / 60) + " min " + (left % 60) + " s.";
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
  }

  function render(state) {
    $("intro").hidden = true;
    $("invited-email").textContent = state.email;
    $("code-email").textContent = state.email;
    const flow = state.flow;
    if (state.status === "accepted" || (flow && flow.status === "completed")) {
      clearInterval(countdownTimer);
      $("result-text").textContent =
        "Done: your ChatGPT account was added to the pool. You can close this page.";
      show("result");
      return;
    }
    if (!flow) {
      show("start");
      return;
    }
    if (flow.status === "pending") {
      $("user-code").textContent = flow.user_code || "";
      $("verification-url").textContent = flow.verification_url;
      $("verification-url").href = flow.verification_url;
      $("instructions").textContent = flow.instructions;
      startCountdown(flow.expires_at);
      show("code");
      const every = Math.max(minPollMs, (flow.interval_s || 5) * 1000);
      clearTimeout(pollTimer);
      pollTimer = setTimeout(refresh, every);
      return;
    }
    if (flow.status === "exchanging") {
      $("waiting").textContent = "Approved. Adding your account…";
      clearTimeout(pollTimer);
      pollTimer = setTimeout(refresh, minPollMs);
      return;
    }
    const message = (flow.error && flow.error.message) || "The sign-in did not finish.";
    fail(message, true);
  }

  async function refresh() {
    try {
      render(await call("GET"));
    } catch (error) {
      fail(error.message, false);
    }
  }

  async function start() {
    $("start-button").disabled = true;
    $("retry-button").disabled = true;
    try {
      render(await call("POST"));
    } catch (error) {
      fail(error.message, true);
    } finally {
      $("start-button").disabled = false;
      $("retry-button").disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("start-button").addEventListener("click", start);
    $("retry-button").addEventListener("click", start);
    refresh();
  });
})();
