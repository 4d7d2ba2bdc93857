/** Render an error message as a page body or htmx fragment. */
export function ErrorPage(props: { status: number; message: string }) {
  const heading =
    props.status === 404
      ? "Not found"
      : props.status === 403
        ? "Not allowed"
        : props.status >= 500
          ? "Something went wrong"
          : "That did not work";
  return (
    <section class="card narrow" aria-labelledby="error-title">
      <h1 id="error-title">{heading}</h1>
      <p>{props.message}</p>
      <p>
        <a href="/">Back to the home page</a>
      </p>
    </section>
  );
}

/** Render an error as an inline alert for htmx swaps. */
export function ErrorAlert(props: { message: string }) {
  return (
    <div class="alert alert-error" role="alert">
      {props.message}
    </div>
  );
}
