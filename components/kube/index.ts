export * from "./images";
export * from "./labels";
export * from "./security";
export * from "./policies";
export * from "./priority";
export * from "./render";
export * from "./reloader";
export * from "./storage";
