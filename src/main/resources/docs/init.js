// Swagger UI's initializer, as a file of ours: the page's CSP allows no inline script.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // No validator badge: it would send the document to validator.swagger.io.
    validatorUrl: null
  });
});
