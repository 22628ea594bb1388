-- CreateTable
CREATE TABLE "Item" (
    "id" SERIAL NOT NULL,
    "n" INTEGER NOT NULL,

    CONSTRAINT "Item_pkey" PRIMARY KEY ("id")
);
