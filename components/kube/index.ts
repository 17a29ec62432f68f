export * from "./images";
export * from "./labels";
export * from "./security";
export * from "./policies";
export * from "./render";
export * from "./reloader";
