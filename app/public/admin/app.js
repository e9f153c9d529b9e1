// The admin pages' script, served by `GET /admin/app.js` only after the admin verifier
// (Cloudflare Access + ADMIN_EMAILS): a file under a protected prefix is never public.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const cell of document.querySelectorAll("td")) {
    if (/^\d{10}$/.test(cell.textContent)) cell.title = new Date(Number(cell.textContent) * 1000).toISOString();
  }
});
