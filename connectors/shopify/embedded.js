// Inside Shopify admin, a form carries a fresh session token: a browser cannot add an
// Authorization header to a form post, so the token goes in a hidden id_token field, filled
// from App Bridge (shopify.idToken(), one minute valid) just before the form is sent.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.dataset.idTokenReady === "1") {
    return;
  }
  event.preventDefault();
  let field = form.querySelector('input[name="id_token"]');
  if (!field) {
    field = document.createElement("input");
    field.type = "hidden";
    field.name = "id_token";
    form.appendChild(field);
  }
  field.value = await window.shopify.idToken();
  form.dataset.idTokenReady = "1";
  form.requestSubmit(event.submitter || undefined);
}, true);
