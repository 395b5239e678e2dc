import { describe, expect, it } from "vitest";
import { ConvexError } from "convex/values";
import {
  billingErrorInfo,
  checkoutReturnOf,
  eventStatus,
  formatInvoiceAmount,
  INVOICE_STATUS,
  subscriptionStatus,
} from "./billing";

describe("billing errors in the customer's terms", () => {
  const err = (code: string, message: string) => new ConvexError({ code, message });

  it("an existing subscription points to Manage billing", () => {
    const info = billingErrorInfo(err("CONFLICT", 'You already have a subscription (active). Use "Manage billing"...'));
    expect(info).toMatchObject({ title: "You already have a subscription", action: "manage" });
    expect(info.message).toMatch(/Manage billing/);
  });

  it("a deployment without billing says so, keeping the missing setting as the detail", () => {
    const info = billingErrorInfo(err("BILLING_NOT_CONFIGURED", "STRIPE_SECRET_KEY is not set on this deployment."));
    expect(info).toMatchObject({ title: "Billing is not set up on this deployment", action: null });
    expect(info.detail).toBe("STRIPE_SECRET_KEY is not set on this deployment.");
  });

  it("a provider failure offers a retry and says nothing was charged", () => {
    const info = billingErrorInfo(err("BILLING_PROVIDER_ERROR", "Stripe answered 503. Try again in a minute."));
    expect(info).toMatchObject({ action: "retry", detail: "Stripe answered 503. Try again in a minute." });
    expect(info.message).toMatch(/Nothing was charged/);
  });

  it("the portal before any checkout sends the customer to the plans, in the server's words", () => {
    expect(billingErrorInfo(err("NOT_FOUND", "You have no billing account yet: choose a plan first."))).toEqual({
      title: "No billing account yet",
      message: "You have no billing account yet: choose a plan first.",
      detail: null,
      action: "choose_plan",
    });
  });

  it("anything else shows its own message and can be retried", () => {
    expect(billingErrorInfo(new Error("network down"))).toMatchObject({ message: "network down", action: "retry" });
  });
});

describe("statuses", () => {
  it("an ended subscription reads Ended whatever its last status", () => {
    expect(subscriptionStatus({ status: "active", ended: true }).label).toBe("Ended");
    expect(subscriptionStatus({ status: "past_due", ended: false })).toEqual({ label: "Payment failed", tone: "warning" });
    expect(subscriptionStatus({ status: "something_new", ended: false }).label).toBe("something_new");
  });

  it("every invoice status has a label", () => {
    for (const status of ["open", "payment_failed", "uncollectible", "paid", "partially_refunded", "refunded", "void"] as const) {
      expect(INVOICE_STATUS[status].label).not.toBe("");
    }
  });

  it("an event without a status reads as applied", () => {
    expect(eventStatus(undefined).label).toBe("Applied");
    expect(eventStatus("failed")).toEqual({ label: "Failed", tone: "critical" });
  });
});

describe("invoice amounts and the checkout return", () => {
  it("formats micro-units of the invoice's currency", () => {
    expect(formatInvoiceAmount(50_000_000, "usd")).toBe("$50.00");
    expect(formatInvoiceAmount(250_000_000, "USD")).toBe("$250.00");
    expect(formatInvoiceAmount(50_000_000, "eur")).toBe("€50.00");
    expect(formatInvoiceAmount(1_500_000, "zzz")).toMatch(/1\.50/);
  });

  it("reads only the two return values checkout sends", () => {
    expect(checkoutReturnOf("success")).toBe("success");
    expect(checkoutReturnOf("canceled")).toBe("canceled");
    expect(checkoutReturnOf("cancelled")).toBeNull();
    expect(checkoutReturnOf(null)).toBeNull();
  });
});
