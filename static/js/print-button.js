// Buttons marked data-print open the browser's print dialog (the sign-up codes page). No inline script: the CSP
// allows scripts from this site's files only.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) window.print();
});
