// A click on a tutorial's diagram shows it at its own size; another click fits it to the column.
document.addEventListener("click", (event) => {
  const image = event.target.closest(".jp-RenderedSVG img, .jp-RenderedImage img");
  if (image) {
    image.parentElement.classList.toggle("tg-zoomed");
  }
});
