/**
 * Annotation on a ConfigMap naming the folder under the render's `files/` that its keys are
 * written to (e.g. `prometheus/rules`). It is how GitOps users and reviewers find each
 * generated config file in `out/<stack>/files/`.
 */
export const RENDER_DIR_ANNOTATION = "observability.pulumi.com/render-dir";
